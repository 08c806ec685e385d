#include "storage_node/engine.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rocksdb/write_batch.h"
#include "absl/time/clock.h"
#include "common/hash.h"
#include "common/hlc.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/options.h"
#include "storage_node/record.h"

namespace quorumkv {
namespace {

constexpr char kHintsFamily[] = "hints";

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": ", s.ToString(), " (is another process using this data dir?)"));
  }
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

// Drops tombstones older than the grace period during compaction.
class TombstonePurger : public rocksdb::CompactionFilter {
 public:
  explicit TombstonePurger(absl::Duration grace) : grace_(grace) {}

  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/,
              const rocksdb::Slice& existing_value,
              std::string* /*new_value*/,
              bool* /*value_changed*/) const override {
    auto header = DecodeRecordHeader(
        absl::string_view(existing_value.data(), existing_value.size()));
    if (!header.ok() || !header->tombstone) return false;
    const auto horizon = absl::ToUnixMillis(absl::Now() - grace_);
    return static_cast<int64_t>(header->wall_ms) < horizon;
  }

  const char* Name() const override { return "quorumkv.TombstonePurger"; }

 private:
  const absl::Duration grace_;
};

void Account(absl::flat_hash_map<uint32_t, PartitionStats>& stats,
             uint32_t partition, absl::string_view key,
             const VersionedValue& value, int sign) {
  if (value.tombstone()) return;
  PartitionStats& s = stats[partition];
  const uint64_t bytes = key.size() + value.value().size();
  if (sign > 0) {
    s.keys += 1;
    s.bytes += bytes;
  } else {
    s.keys -= 1;
    s.bytes -= bytes;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(
    const std::string& dir, const EngineOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  auto purger = std::make_unique<TombstonePurger>(options.tombstone_grace);
  rocksdb::ColumnFamilyOptions rows_options;
  rows_options.compaction_filter = purger.get();
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rows_options},
      {kHintsFamily, rocksdb::ColumnFamilyOptions()}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, dir, families, &handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening RocksDB in ", dir));
  std::unique_ptr<Engine> engine(new Engine(std::move(purger),
                                            std::unique_ptr<rocksdb::DB>(raw),
                                            std::move(handles)));
  if (absl::Status st = engine->LoadStats(); !st.ok()) return st;
  return engine;
}

Engine::Engine(std::unique_ptr<rocksdb::CompactionFilter> purger,
               std::unique_ptr<rocksdb::DB> db,
               std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : purger_(std::move(purger)),
      db_(std::move(db)),
      handles_(std::move(handles)),
      hints_(std::make_unique<HintStore>(db_.get(), handles_[1])) {}

Engine::~Engine() {
  hints_.reset();
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    db_->DestroyColumnFamilyHandle(h);
  }
  db_->Close();
}

absl::Status Engine::LoadStats() {
  absl::flat_hash_map<uint32_t, PartitionStats> stats;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handles_[0]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint32_t partition;
    absl::string_view key;
    if (!DecodeRowKey(absl::string_view(it->key().data(), it->key().size()),
                      &partition, &key)) {
      continue;
    }
    auto value = DecodeRecord(
        absl::string_view(it->value().data(), it->value().size()));
    if (!value.ok()) return value.status();
    Account(stats, partition, key, *value, +1);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scanning rows");
  absl::MutexLock lock(&stats_mu_);
  stats_ = std::move(stats);
  return absl::OkStatus();
}

absl::Mutex& Engine::StripeFor(absl::string_view row_key) {
  return stripes_[StableHash(row_key) % stripes_.size()];
}

absl::StatusOr<bool> Engine::Apply(uint32_t partition, absl::string_view key,
                                   const VersionedValue& value) {
  const std::string row_key = EncodeRowKey(partition, key);
  absl::MutexLock stripe(&StripeFor(row_key));
  auto current = Read(partition, key);
  if (!current.ok() && !absl::IsNotFound(current.status())) {
    return current.status();
  }
  if (current.ok() &&
      CompareVersions(value.version(), current->version()) <= 0) {
    return false;
  }
  rocksdb::Status s = db_->Put(rocksdb::WriteOptions(), handles_[0], row_key,
                               EncodeRecord(value));
  if (!s.ok()) return FromRocks(s, "writing row");
  absl::MutexLock lock(&stats_mu_);
  if (current.ok()) Account(stats_, partition, key, *current, -1);
  Account(stats_, partition, key, value, +1);
  return true;
}

absl::StatusOr<size_t> Engine::ApplyBatch(
    uint32_t partition,
    const google::protobuf::RepeatedPtrField<StreamedRow>& rows)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {  // locks a set of stripes, in order
  std::vector<std::string> row_keys;
  row_keys.reserve(rows.size());
  std::vector<size_t> stripes;
  for (const StreamedRow& row : rows) {
    row_keys.push_back(EncodeRowKey(partition, row.key()));
    stripes.push_back(StableHash(row_keys.back()) % stripes_.size());
  }
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  for (size_t i : stripes) stripes_[i].Lock();
  absl::Cleanup unlock = [&] {
    for (auto it = stripes.rbegin(); it != stripes.rend(); ++it) {
      stripes_[*it].Unlock();
    }
  };
  std::vector<rocksdb::Slice> slices(row_keys.begin(), row_keys.end());
  std::vector<std::string> current(row_keys.size());
  std::vector<rocksdb::Status> found = db_->MultiGet(
      rocksdb::ReadOptions(),
      std::vector<rocksdb::ColumnFamilyHandle*>(row_keys.size(), handles_[0]),
      slices, &current);
  rocksdb::WriteBatch batch;
  absl::flat_hash_map<uint32_t, PartitionStats> minus, plus;
  size_t stored = 0;
  for (int i = 0; i < rows.size(); ++i) {
    const StreamedRow& row = rows[i];
    std::optional<VersionedValue> old;
    if (found[i].ok()) {
      ASSIGN_OR_RETURN(old, DecodeRecord(current[i]));
      if (CompareVersions(row.value().version(), old->version()) <= 0) continue;
    } else if (!found[i].IsNotFound()) {
      return FromRocks(found[i], "reading rows");
    }
    batch.Put(handles_[0], row_keys[i], EncodeRecord(row.value()));
    if (old) Account(minus, partition, row.key(), *old, +1);
    Account(plus, partition, row.key(), row.value(), +1);
    ++stored;
  }
  if (stored == 0) return stored;
  rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), &batch);
  if (!s.ok()) return FromRocks(s, "writing rows");
  absl::MutexLock lock(&stats_mu_);
  PartitionStats& stats = stats_[partition];
  stats.keys += plus[partition].keys - minus[partition].keys;
  stats.bytes += plus[partition].bytes - minus[partition].bytes;
  return stored;
}

absl::StatusOr<VersionedValue> Engine::Read(uint32_t partition,
                                            absl::string_view key) const {
  std::string bytes;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[0],
                               EncodeRowKey(partition, key), &bytes);
  if (s.IsNotFound()) return absl::NotFoundError("key not found");
  if (!s.ok()) return FromRocks(s, "reading row");
  return DecodeRecord(bytes);
}

absl::Status Engine::Compact() {
  return FromRocks(db_->CompactRange(rocksdb::CompactRangeOptions(),
                                     handles_[0], nullptr, nullptr),
                   "compacting rows");
}

Engine::PartitionScan::PartitionScan(rocksdb::DB* db,
                                     rocksdb::ColumnFamilyHandle* rows,
                                     uint32_t partition,
                                     absl::string_view start_after)
    : db_(db),
      snapshot_(db->GetSnapshot()),
      end_(EncodeRowKey(partition + 1, "")) {
  rocksdb::ReadOptions options;
  options.snapshot = snapshot_;
  // A stream reads every row once: keep it out of the block cache.
  options.fill_cache = false;
  it_.reset(db_->NewIterator(options, rows));
  const std::string start = EncodeRowKey(partition, start_after);
  it_->Seek(start);
  if (!start_after.empty() && it_->Valid() && it_->key() == start) it_->Next();
}

Engine::PartitionScan::~PartitionScan() {
  it_.reset();
  db_->ReleaseSnapshot(snapshot_);
}

absl::StatusOr<bool> Engine::PartitionScan::Next(size_t max_bytes,
                                                 PartitionChunk* chunk) {
  size_t bytes = 0;
  for (; it_->Valid() && bytes < max_bytes; it_->Next()) {
    const absl::string_view row_key(it_->key().data(), it_->key().size());
    if (row_key >= end_) return false;
    uint32_t partition;
    absl::string_view key;
    if (!DecodeRowKey(row_key, &partition, &key)) continue;
    auto value =
        DecodeRecord(absl::string_view(it_->value().data(), it_->value().size()));
    if (!value.ok()) return value.status();
    StreamedRow* row = chunk->add_rows();
    row->set_key(std::string(key));
    *row->mutable_value() = *std::move(value);
    bytes += row_key.size() + it_->value().size();
  }
  if (!it_->status().ok()) return FromRocks(it_->status(), "streaming rows");
  return it_->Valid() &&
         absl::string_view(it_->key().data(), it_->key().size()) < end_;
}

std::unique_ptr<Engine::PartitionScan> Engine::ScanPartition(
    uint32_t partition, absl::string_view start_after) {
  return std::unique_ptr<PartitionScan>(
      new PartitionScan(db_.get(), handles_[0], partition, start_after));
}

bool Engine::HasRows(uint32_t partition) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handles_[0]));
  it->Seek(EncodeRowKey(partition, ""));
  return it->Valid() && absl::string_view(it->key().data(), it->key().size()) <
                            EncodeRowKey(partition + 1, "");
}

absl::Status Engine::DropPartition(uint32_t partition) {
  rocksdb::Status s =
      db_->DeleteRange(rocksdb::WriteOptions(), handles_[0],
                       EncodeRowKey(partition, ""),
                       EncodeRowKey(partition + 1, ""));
  if (!s.ok()) return FromRocks(s, "dropping partition rows");
  absl::MutexLock lock(&stats_mu_);
  stats_.erase(partition);
  return absl::OkStatus();
}

absl::flat_hash_map<uint32_t, PartitionStats> Engine::Stats() const {
  absl::MutexLock lock(&stats_mu_);
  return stats_;
}

}  // namespace quorumkv
