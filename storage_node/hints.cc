#include "storage_node/hints.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "storage_node/hint_format.h"
#include "rocksdb/write_batch.h"

namespace quorumkv {
namespace {

absl::string_view View(const rocksdb::Slice& slice) {
  return absl::string_view(slice.data(), slice.size());
}

absl::Time WrittenAt(const ApplyRequest& request) {
  return absl::FromUnixMillis(
      static_cast<int64_t>(request.value().version().wall_ms()));
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

}  // namespace

HintStore::HintStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                     HintLimits limits, Clock clock)
    : db_(db), cf_(cf), limits_(limits), clock_(std::move(clock)) {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf_));
  uint64_t count = 0, max_sequence = 0;
  absl::MutexLock lock(&mu_);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::StatusOr<HintKeyParts> key = DecodeHintKey(View(it->key()));
    if (!key.ok()) {
      QKV_LOG(WARNING) << "skipping a stored hint: " << key.status().message();
      continue;
    }
    ++count;
    max_sequence = std::max(max_sequence, key->sequence);
    TargetState& state = targets_[key->target];
    ++state.count;
    state.bytes += it->value().size();
    absl::StatusOr<ApplyRequest> request = DecodeHintValue(View(it->value()));
    if (request.ok()) {
      state.waiting_since = std::min(state.waiting_since, WrittenAt(*request));
    }
  }
  pending_ = count;
  next_sequence_ = max_sequence + 1;
}

absl::Status HintStore::Add(std::vector<NewHint> hints) {
  const absl::Time now = clock_();
  rocksdb::WriteBatch batch;
  uint64_t added = 0, refused = 0;
  absl::MutexLock lock(&mu_);
  absl::flat_hash_map<std::string, TargetState> next = targets_;
  for (NewHint& hint : hints) {
    const std::string value = hint.request.SerializeAsString();
    TargetState& state = next[hint.target];
    if (state.count > 0 && now - state.waiting_since > limits_.window) {
      ++refused;  // Down longer than the window: anti-entropy's job now.
      MarkDiverged(hint.request.partition());
      continue;
    }
    if (state.bytes + value.size() > limits_.max_bytes_per_target) {
      ++refused;
      MarkDiverged(hint.request.partition());
      continue;
    }
    if (state.count == 0) state.waiting_since = now;
    ++state.count;
    state.bytes += value.size();
    batch.Put(cf_, EncodeHintKey(hint.target, next_sequence_++), value);
    ++added;
  }
  if (refused > 0) dropped_ += refused;
  if (added == 0) return absl::OkStatus();
  rocksdb::WriteOptions options;
  options.sync = true;
  RETURN_IF_ERROR(FromRocks(db_->Write(options, &batch), "storing hints"));
  for (auto it = next.begin(); it != next.end();) {
    if (it->second.count == 0) {
      next.erase(it++);
    } else {
      ++it;
    }
  }
  targets_ = std::move(next);
  pending_ += added;
  return absl::OkStatus();
}

std::vector<HintStore::Hint> HintStore::Peek(const std::string& target_node,
                                             size_t max) const {
  std::vector<Hint> hints;
  const std::string prefix = HintKeyPrefix(target_node);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf_));
  for (it->Seek(prefix); it->Valid() && hints.size() < max; it->Next()) {
    if (!it->key().starts_with(prefix)) break;
    Hint hint;
    hint.id = it->key().ToString();
    hint.target = target_node;
    hint.bytes = it->value().size();
    absl::StatusOr<ApplyRequest> request = DecodeHintValue(View(it->value()));
    if (!request.ok()) {
      continue;  // Unreadable hints are left for an operator to inspect.
    }
    hint.request = *std::move(request);
    hints.push_back(std::move(hint));
  }
  return hints;
}

absl::Status HintStore::Remove(const std::vector<Hint>& hints) {
  if (hints.empty()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  for (const Hint& hint : hints) batch.Delete(cf_, hint.id);
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(
      FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "removing hints"));
  for (const Hint& hint : hints) {
    auto it = targets_.find(hint.target);
    if (it == targets_.end()) continue;
    it->second.bytes -= std::min<uint64_t>(it->second.bytes, hint.bytes);
    if (--it->second.count == 0) targets_.erase(it);
  }
  pending_ -= std::min<uint64_t>(hints.size(), pending_.load());
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> HintStore::RemovePartition(uint32_t partition) {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf_));
  std::vector<Hint> doomed;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::StatusOr<HintKeyParts> key = DecodeHintKey(View(it->key()));
    absl::StatusOr<ApplyRequest> request = DecodeHintValue(View(it->value()));
    if (key.ok() && request.ok() && request->partition() == partition) {
      doomed.push_back(
          {it->key().ToString(), key->target, it->value().size(), {}});
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scanning hints");
  RETURN_IF_ERROR(Remove(doomed));
  return doomed.size();
}

std::vector<std::string> HintStore::Targets() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> targets;
  targets.reserve(targets_.size());
  for (const auto& [target, state] : targets_) targets.push_back(target);
  std::sort(targets.begin(), targets.end());
  return targets;
}

void HintStore::MarkDiverged(uint32_t partition) {
  absl::MutexLock lock(&diverged_mu_);
  diverged_.insert(partition);
}

std::vector<uint32_t> HintStore::TakeDiverged() {
  absl::MutexLock lock(&diverged_mu_);
  std::vector<uint32_t> taken(diverged_.begin(), diverged_.end());
  diverged_.clear();
  return taken;
}

bool HintStore::Expired(const Hint& hint) const {
  return clock_() - WrittenAt(hint.request) > limits_.window;
}

}  // namespace quorumkv
