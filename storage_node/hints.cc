#include "storage_node/hints.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rocksdb/write_batch.h"

namespace quorumkv {
namespace {

constexpr char kSeparator = '\0';

std::string HintKey(const std::string& target, uint64_t sequence) {
  std::string key = target;
  key.push_back(kSeparator);
  for (int i = 7; i >= 0; --i) {
    key.push_back(static_cast<char>((sequence >> (8 * i)) & 0xff));
  }
  return key;
}

uint64_t SequenceOf(const rocksdb::Slice& key) {
  uint64_t sequence = 0;
  for (size_t i = key.size() - 8; i < key.size(); ++i) {
    sequence = (sequence << 8) | static_cast<uint8_t>(key[i]);
  }
  return sequence;
}

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

}  // namespace

HintStore::HintStore(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf)
    : db_(db), cf_(cf) {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf_));
  uint64_t count = 0, max_sequence = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++count;
    if (it->key().size() >= 8) {
      max_sequence = std::max(max_sequence, SequenceOf(it->key()));
    }
  }
  pending_ = count;
  next_sequence_ = max_sequence + 1;
}

absl::Status HintStore::Add(const std::string& target_node,
                            const ApplyRequest& request) {
  rocksdb::WriteOptions options;
  options.sync = true;
  const std::string key = HintKey(target_node, next_sequence_++);
  rocksdb::Status s =
      db_->Put(options, cf_, key, request.SerializeAsString());
  if (s.ok()) ++pending_;
  return FromRocks(s, "storing hint");
}

std::vector<HintStore::Hint> HintStore::Peek(const std::string& target_node,
                                             size_t max) const {
  std::vector<Hint> hints;
  std::string prefix = target_node;
  prefix.push_back(kSeparator);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf_));
  for (it->Seek(prefix); it->Valid() && hints.size() < max; it->Next()) {
    if (!it->key().starts_with(prefix)) break;
    Hint hint;
    hint.id = it->key().ToString();
    if (!hint.request.ParseFromArray(it->value().data(),
                                     static_cast<int>(it->value().size()))) {
      continue;  // Unreadable hints are left for an operator to inspect.
    }
    hints.push_back(std::move(hint));
  }
  return hints;
}

absl::Status HintStore::Remove(const std::string& hint_id) {
  rocksdb::Status s = db_->Delete(rocksdb::WriteOptions(), cf_, hint_id);
  if (s.ok() && pending_.load() > 0) --pending_;
  return FromRocks(s, "removing hint");
}

absl::StatusOr<uint64_t> HintStore::RemovePartition(uint32_t partition) {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf_));
  rocksdb::WriteBatch batch;
  uint64_t removed = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ApplyRequest request;
    if (request.ParseFromArray(it->value().data(),
                               static_cast<int>(it->value().size())) &&
        request.partition() == partition) {
      batch.Delete(cf_, it->key());
      ++removed;
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scanning hints");
  if (removed == 0) return removed;
  RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &batch),
                            "removing hints"));
  pending_ -= std::min<uint64_t>(removed, pending_.load());
  return removed;
}

std::vector<std::string> HintStore::Targets() const {
  std::vector<std::string> targets;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), cf_));
  it->SeekToFirst();
  while (it->Valid()) {
    const std::string key = it->key().ToString();
    const std::string target = key.substr(0, key.find(kSeparator));
    targets.push_back(target);
    // Skip the rest of this target's hints: '\x01' sorts after the separator.
    it->Seek(target + '\x01');
  }
  return targets;
}

}  // namespace quorumkv
