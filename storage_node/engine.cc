#include "storage_node/engine.h"

#include <unistd.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "rocksdb/write_batch.h"
#include "absl/time/clock.h"
#include "common/hash.h"
#include "common/hlc.h"
#include "common/logging.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/cache.h"
#include "rocksdb/options.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"
#include "storage_node/merkle_tree.h"
#include "storage_node/record.h"
#include "storage_node/paxos/acceptor_rules.h"
#include "storage_node/row_registers.h"

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

}  // namespace

// Per partition, before when every replica is known to hold every row.
class PurgeHorizons {
 public:
  void Set(uint32_t partition, int64_t ms) {
    absl::MutexLock lock(&mu_);
    int64_t& horizon = ms_[partition];
    if (ms > horizon) advanced_.insert(partition);
    horizon = std::max(horizon, ms);
  }
  // Partitions whose horizon moved since the last call.
  std::vector<uint32_t> TakeAdvanced() {
    absl::MutexLock lock(&mu_);
    std::vector<uint32_t> out(advanced_.begin(), advanced_.end());
    advanced_.clear();
    return out;
  }
  int64_t Get(uint32_t partition) const {
    absl::ReaderMutexLock lock(&mu_);
    auto it = ms_.find(partition);
    return it == ms_.end() ? 0 : it->second;
  }

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint32_t, int64_t> ms_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<uint32_t> advanced_ ABSL_GUARDED_BY(mu_);
};

namespace {

// Drops a tombstone during compaction once it is past the grace period and
// older than the partition's last completed anti-entropy pass: every
// replica holds it then, so no replica can hand the deleted value back.
// Both registers count: an expire of a missing key is a tombstone whose
// value register was never written. (Expired values go by
// Engine::PurgeExpired, which keeps the statistics exact.)
class TombstonePurger : public rocksdb::CompactionFilter {
 public:
  TombstonePurger(absl::Duration grace,
                  std::shared_ptr<const PurgeHorizons> horizons)
      : grace_(grace), horizons_(std::move(horizons)) {}

  bool Filter(int /*level*/, const rocksdb::Slice& key,
              const rocksdb::Slice& existing_value,
              std::string* /*new_value*/,
              bool* /*value_changed*/) const override {
    auto header = DecodeRecordHeader(
        absl::string_view(existing_value.data(), existing_value.size()));
    if (!header.ok() || !header->tombstone) return false;
    uint32_t partition;
    absl::string_view user_key;
    if (!DecodeRowKey(absl::string_view(key.data(), key.size()), &partition,
                      &user_key)) {
      return false;
    }
    const int64_t written = static_cast<int64_t>(NewestWriteMs(*header));
    return written < absl::ToUnixMillis(absl::Now() - grace_) &&
           written < horizons_->Get(partition);
  }

  const char* Name() const override { return "quorumkv.TombstonePurger"; }

 private:
  const absl::Duration grace_;
  const std::shared_ptr<const PurgeHorizons> horizons_;
};

constexpr char kStatsFamily[] = "stats";
// Per key, the state of its Paxos rounds (storage_node/paxos), under the
// key's row key.
constexpr char kPaxosFamily[] = "paxos";
// Present in the stats family once it counts every row: a database written
// before the statistics were kept is scanned once, then never again.
constexpr char kStatsCompleteKey[] = "complete";

// A change to a partition's statistics; stored as 16 bytes (keys, bytes:
// int64 little-endian), and summed by RocksDB as a merge operand.
struct StatsDelta {
  int64_t keys = 0;
  int64_t bytes = 0;

  void Add(absl::string_view key, const VersionedValue& value, int sign) {
    if (value.tombstone()) return;
    keys += sign;
    bytes += sign * static_cast<int64_t>(key.size() + value.value().size());
  }
  std::string Encode() const {
    std::string out(16, '\0');
    for (int i = 0; i < 8; ++i) {
      out[i] = static_cast<char>((static_cast<uint64_t>(keys) >> (8 * i)) & 0xff);
      out[8 + i] =
          static_cast<char>((static_cast<uint64_t>(bytes) >> (8 * i)) & 0xff);
    }
    return out;
  }
  static std::optional<StatsDelta> Decode(absl::string_view in) {
    if (in.size() != 16) return std::nullopt;
    uint64_t k = 0, b = 0;
    for (int i = 0; i < 8; ++i) {
      k |= uint64_t{static_cast<uint8_t>(in[i])} << (8 * i);
      b |= uint64_t{static_cast<uint8_t>(in[8 + i])} << (8 * i);
    }
    return StatsDelta{static_cast<int64_t>(k), static_cast<int64_t>(b)};
  }
};

// Sums StatsDelta operands, so that a write adds to a partition's counters
// without reading them.
class StatsAdder : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice& /*key*/, const rocksdb::Slice* existing,
             const rocksdb::Slice& value, std::string* new_value,
             rocksdb::Logger* /*logger*/) const override {
    StatsDelta sum;
    if (existing != nullptr) {
      auto old = StatsDelta::Decode(
          absl::string_view(existing->data(), existing->size()));
      if (!old) return false;  // corruption: RocksDB reports it
      sum = *old;
    }
    auto delta =
        StatsDelta::Decode(absl::string_view(value.data(), value.size()));
    if (!delta) return false;
    sum.keys += delta->keys;
    sum.bytes += delta->bytes;
    *new_value = sum.Encode();
    return true;
  }
  const char* Name() const override { return "quorumkv.StatsAdder"; }
};

std::string StatsKey(uint32_t partition) { return EncodeRowKey(partition, ""); }

void ApplyDelta(PartitionStats& stats, const StatsDelta& delta) {
  stats.keys += delta.keys;
  stats.bytes += delta.bytes;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(
    const std::string& dir, const EngineOptions& options) {
  const uint64_t cache_bytes =
      options.cache_bytes > 0 ? options.cache_bytes : DefaultCacheBytes();
  std::shared_ptr<rocksdb::Cache> block_cache =
      rocksdb::NewLRUCache(cache_bytes - cache_bytes / 4);
  std::shared_ptr<rocksdb::Cache> row_cache = rocksdb::NewLRUCache(cache_bytes / 4);
  std::shared_ptr<rocksdb::Statistics> statistics = rocksdb::CreateDBStatistics();
  // Counters only: timing every operation costs more than it tells here.
  statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = block_cache;
  rocksdb::Options db_options;
  db_options.statistics = statistics;
  db_options.row_cache = row_cache;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // The hints and statistics families see small writes that would never
  // fill a memtable, so they would pin every write-ahead log file ever
  // written and a restart would replay them all. Past this much log,
  // RocksDB flushes whatever pins the oldest file: recovery after a crash
  // replays at most about this much.
  db_options.max_total_wal_size = 64 << 20;
  auto horizons = std::make_shared<PurgeHorizons>();
  auto purger =
      std::make_unique<TombstonePurger>(options.tombstone_grace, horizons);
  auto adder = std::make_unique<StatsAdder>();
  rocksdb::ColumnFamilyOptions rows_options;
  rows_options.compaction_filter = purger.get();
  rows_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
  rocksdb::ColumnFamilyOptions stats_options;
  stats_options.merge_operator.reset(adder.get(), [](auto*) {});
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rows_options},
      {kHintsFamily, rocksdb::ColumnFamilyOptions()},
      {kStatsFamily, stats_options},
      {kPaxosFamily, rocksdb::ColumnFamilyOptions()}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, dir, families, &handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening RocksDB in ", dir));
  std::unique_ptr<Engine> engine(new Engine(std::move(horizons),
      std::move(purger), std::move(adder), std::unique_ptr<rocksdb::DB>(raw),
      std::move(handles), options));
  engine->block_cache_ = std::move(block_cache);
  engine->row_cache_ = std::move(row_cache);
  engine->statistics_ = std::move(statistics);
  if (absl::Status st = engine->LoadStats(); !st.ok()) return st;
  return engine;
}

uint64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * page : 0;
}

uint64_t DefaultCacheBytes() {
  const uint64_t memory = PhysicalMemoryBytes();
  const uint64_t gib = uint64_t{1} << 30;
  return memory == 0 ? 256ull << 20 : std::min(gib, memory / 16);
}

absl::Status Engine::Flush() {
  return FromRocks(db_->Flush(rocksdb::FlushOptions(), handles_), "flushing");
}

Engine::CacheStats Engine::Caches() const {
  auto ticker = [this](rocksdb::Tickers t) {
    return statistics_->getTickerCount(t);
  };
  // Entries held, counted by a walk of each cache (RocksDB 7.8's
  // occupancy count reads 0), at most every kCacheCountEvery: a walk of a
  // large row cache takes tens of milliseconds.
  std::pair<uint64_t, uint64_t> entries;
  {
    absl::MutexLock lock(&cache_count_mu_);
    const absl::Time now = absl::Now();
    if (now - cache_counted_at_ >= kCacheCountEvery) {
      cache_counted_at_ = now;
      for (auto [cache, count] : {std::pair{block_cache_.get(), &cache_entries_.first},
                                  std::pair{row_cache_.get(), &cache_entries_.second}}) {
        uint64_t n = 0;
        cache->ApplyToAllEntries([&n](const rocksdb::Slice&, void*, size_t,
                                      rocksdb::Cache::DeleterFn) { ++n; },
                                 {});
        *count = n;
      }
    }
    entries = cache_entries_;
  }
  CacheStats stats;
  stats.block.hits = ticker(rocksdb::BLOCK_CACHE_HIT);
  stats.block.misses = ticker(rocksdb::BLOCK_CACHE_MISS);
  const uint64_t block_added = ticker(rocksdb::BLOCK_CACHE_ADD);
  stats.block.evictions = block_added - std::min(block_added, entries.first);
  stats.block.bytes = block_cache_->GetUsage();
  stats.block.capacity = block_cache_->GetCapacity();
  stats.row.hits = ticker(rocksdb::ROW_CACHE_HIT);
  // Each row-cache miss of a row that exists inserts it.
  stats.row.misses = ticker(rocksdb::ROW_CACHE_MISS);
  stats.row.evictions = stats.row.misses - std::min(stats.row.misses, entries.second);
  stats.row.bytes = row_cache_->GetUsage();
  stats.row.capacity = row_cache_->GetCapacity();
  return stats;
}

namespace {
rocksdb::WriteOptions MakeWriteOptions(bool sync) {
  rocksdb::WriteOptions options;
  options.sync = sync;
  return options;
}
}  // namespace

Engine::Engine(std::shared_ptr<PurgeHorizons> horizons,
               std::unique_ptr<rocksdb::CompactionFilter> purger,
               std::unique_ptr<rocksdb::MergeOperator> adder,
               std::unique_ptr<rocksdb::DB> db,
               std::vector<rocksdb::ColumnFamilyHandle*> handles,
               const EngineOptions& options)
    : purger_(std::move(purger)),
      adder_(std::move(adder)),
      db_(std::move(db)),
      handles_(std::move(handles)),
      write_options_(MakeWriteOptions(options.sync_writes)),
      hints_(std::make_unique<HintStore>(db_.get(), handles_[1],
                                         options.hint_limits)),
      horizons_(std::move(horizons)),
      tombstone_grace_(options.tombstone_grace) {}

Engine::~Engine() {
  hints_.reset();
  // A clean stop leaves nothing to replay: the next start opens at once.
  rocksdb::FlushOptions flush;
  rocksdb::Status flushed = db_->Flush(flush, handles_);
  if (!flushed.ok()) {
    QKV_LOG(WARNING) << "flushing RocksDB at shutdown: " << flushed.ToString();
  }
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    db_->DestroyColumnFamilyHandle(h);
  }
  db_->Close();
}

absl::Status Engine::LoadStats() {
  std::string marker;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), stats_family(),
                               kStatsCompleteKey, &marker);
  if (s.IsNotFound()) return ScanStats();
  if (!s.ok()) return FromRocks(s, "reading statistics");
  absl::flat_hash_map<uint32_t, PartitionStats> stats;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), stats_family()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint32_t partition;
    absl::string_view rest;
    const absl::string_view key(it->key().data(), it->key().size());
    if (key.size() != 4 || !DecodeRowKey(key, &partition, &rest)) continue;
    auto delta = StatsDelta::Decode(
        absl::string_view(it->value().data(), it->value().size()));
    if (!delta) {
      return absl::DataLossError(absl::StrCat(
          "corrupt statistics of partition ", partition));
    }
    ApplyDelta(stats[partition], *delta);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading statistics");
  absl::MutexLock lock(&stats_mu_);
  stats_ = std::move(stats);
  return absl::OkStatus();
}

absl::Status Engine::ScanStats() {
  absl::flat_hash_map<uint32_t, StatsDelta> counted;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), rows()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    uint32_t partition;
    absl::string_view key;
    if (!DecodeRowKey(absl::string_view(it->key().data(), it->key().size()),
                      &partition, &key)) {
      continue;
    }
    ASSIGN_OR_RETURN(RecordHeader header,
                     DecodeRecordHeader(absl::string_view(
                         it->value().data(), it->value().size())));
    if (header.tombstone) continue;
    StatsDelta& d = counted[partition];
    d.keys += 1;
    d.bytes += key.size() + header.value_bytes;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scanning rows");
  rocksdb::WriteBatch batch;
  absl::flat_hash_map<uint32_t, PartitionStats> stats;
  for (const auto& [partition, delta] : counted) {
    batch.Put(stats_family(), StatsKey(partition), delta.Encode());
    ApplyDelta(stats[partition], delta);
  }
  batch.Put(stats_family(), kStatsCompleteKey, "");
  rocksdb::WriteOptions sync;
  sync.sync = true;
  RETURN_IF_ERROR(FromRocks(db_->Write(sync, &batch), "storing statistics"));
  absl::MutexLock lock(&stats_mu_);
  stats_ = std::move(stats);
  return absl::OkStatus();
}

absl::StatusOr<bool> Engine::Apply(uint32_t partition, absl::string_view key,
                                   const VersionedValue& value) {
  const RowWrite row{partition, key, &value};
  std::vector<bool> stored;
  RETURN_IF_ERROR(ApplyMany(absl::MakeConstSpan(&row, 1), &stored));
  return stored[0];
}

absl::Status Engine::ApplyMany(absl::Span<const RowWrite> rows,
                               std::vector<bool>* stored,
                               std::vector<bool>* had_value)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {  // locks a set of stripes, in order
  const size_t n = rows.size();
  stored->assign(n, false);
  std::vector<bool> had(n, false);
  absl::Cleanup give_had = [&] {
    if (had_value != nullptr) *had_value = std::move(had);
  };
  if (n == 0) return absl::OkStatus();
  std::vector<std::string> row_keys;
  row_keys.reserve(n);
  for (const RowWrite& row : rows) {
    row_keys.push_back(EncodeRowKey(row.partition, row.key));
  }
  const std::vector<size_t> stripes = LockStripes(row_keys);
  absl::Cleanup unlock = [&] { UnlockStripes(stripes); };
  std::vector<rocksdb::Slice> slices(row_keys.begin(), row_keys.end());
  std::vector<rocksdb::PinnableSlice> current(n);
  std::vector<rocksdb::Status> found(n);
  db_->MultiGet(rocksdb::ReadOptions(), this->rows(), n, slices.data(),
                current.data(), found.data());

  rocksdb::WriteBatch batch;
  absl::flat_hash_map<uint32_t, StatsDelta> deltas;
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  // Rows made of registers from two copies (row_registers.h); stable
  // addresses, since `newest` points into it.
  std::deque<VersionedValue> combined;
  // The newest row of this call per row key: what a later one must beat.
  absl::flat_hash_map<absl::string_view, const VersionedValue*> newest;
  for (size_t i = 0; i < n; ++i) {
    const RowWrite& row = rows[i];
    const VersionedValue* to_store = row.value;
    StatsDelta& delta = deltas[row.partition];
    auto earlier = newest.find(row_keys[i]);
    if (earlier != newest.end()) {
      const VersionedValue& prev = *earlier->second;
      had[i] = LiveAt(prev, now_ms);
      const RegisterMerge merge = PlanMerge(prev, *row.value);
      if (!merge.Changes()) continue;
      if (merge.Mixes()) {
        to_store = &combined.emplace_back(merge.value ? Combine(*row.value, prev)
                                                      : Combine(prev, *row.value));
      }
      delta.Add(row.key, prev, -1);
    } else if (found[i].ok()) {
      const absl::string_view bytes(current[i].data(), current[i].size());
      ASSIGN_OR_RETURN(RecordHeader header, DecodeRecordHeader(bytes));
      had[i] = LiveAt(header, now_ms);
      const RegisterMerge merge = PlanMerge(header, *row.value);
      if (!merge.Changes()) continue;
      if (merge.Mixes()) {
        // Only now is the stored value decoded: plain writes never mix.
        ASSIGN_OR_RETURN(VersionedValue held, DecodeRecord(bytes));
        to_store = &combined.emplace_back(merge.value ? Combine(*row.value, held)
                                                      : Combine(held, *row.value));
      }
      if (!header.tombstone) {
        delta.keys -= 1;
        delta.bytes -= row.key.size() + header.value_bytes;
      }
    } else if (!found[i].IsNotFound()) {
      return FromRocks(found[i], "reading rows");
    }
    batch.Put(this->rows(), row_keys[i], EncodeRecord(*to_store));
    delta.Add(row.key, *to_store, +1);
    newest[row_keys[i]] = to_store;
    (*stored)[i] = true;
  }
  if (batch.Count() == 0) return absl::OkStatus();
  for (const auto& [partition, delta] : deltas) {
    if (delta.keys != 0 || delta.bytes != 0) {
      batch.Merge(stats_family(), StatsKey(partition), delta.Encode());
    }
  }
  rocksdb::Status s = db_->Write(write_options_, &batch);
  if (!s.ok()) {
    stored->assign(n, false);
    return FromRocks(s, "writing rows");
  }
  absl::MutexLock lock(&stats_mu_);
  for (const auto& [partition, delta] : deltas) {
    ApplyDelta(stats_[partition], delta);
  }
  return absl::OkStatus();
}

std::vector<size_t> Engine::LockStripes(
    const std::vector<std::string>& row_keys) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  std::vector<size_t> stripes;
  stripes.reserve(row_keys.size());
  for (const std::string& row_key : row_keys) {
    stripes.push_back(StableHash(row_key) % stripes_.size());
  }
  // In one order everywhere, so that two calls never wait on each other.
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  for (size_t i : stripes) stripes_[i].Lock();
  return stripes;
}

void Engine::UnlockStripes(const std::vector<size_t>& stripes)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (auto it = stripes.rbegin(); it != stripes.rend(); ++it) {
    stripes_[*it].Unlock();
  }
}

absl::Status Engine::UpdatePaxos(uint32_t partition, absl::string_view key,
                                 const PaxosStep& step) {
  const std::string row_key = EncodeRowKey(partition, key);
  const std::vector<size_t> stripes = LockStripes({row_key});
  absl::Cleanup unlock = [&] { UnlockStripes(stripes); };
  PaxosState state;
  rocksdb::PinnableSlice bytes;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), paxos_family(), row_key, &bytes);
  if (s.ok()) {
    if (!state.ParseFromArray(bytes.data(), bytes.size())) {
      return absl::DataLossError("corrupt Paxos state");
    }
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading Paxos state");
  }
  std::optional<VersionedValue> current;
  rocksdb::PinnableSlice row;
  s = db_->Get(rocksdb::ReadOptions(), rows(), row_key, &row);
  if (s.ok()) {
    ASSIGN_OR_RETURN(current,
                     DecodeRecord(absl::string_view(row.data(), row.size())));
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading row");
  }
  if (!step(&state, current ? &*current : nullptr)) return absl::OkStatus();
  return FromRocks(db_->Put(write_options_, paxos_family(), row_key,
                            state.SerializeAsString()),
                   "storing Paxos state");
}

absl::Status Engine::MergePaxos(
    uint32_t partition,
    const google::protobuf::RepeatedPtrField<PaxosRow>& streamed) {
  for (const PaxosRow& row : streamed) {
    RETURN_IF_ERROR(UpdatePaxos(partition, row.key(),
                                [&](PaxosState* state, const VersionedValue*) {
                                  *state = MergeStates(*state, row.state());
                                  return true;
                                }));
  }
  return absl::OkStatus();
}

std::vector<uint32_t> Engine::TakeRepairedPartitions() {
  return horizons_->TakeAdvanced();
}

absl::StatusOr<size_t> Engine::PurgeExpired(uint32_t partition) {
  const int64_t horizon = horizons_->Get(partition);
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  const int64_t past_grace = absl::ToUnixMillis(absl::Now() - tombstone_grace_);
  // A value expired past the grace period, whose registers every replica
  // held as of the last completed anti-entropy pass: no copy anywhere can
  // bring it back live.
  auto purgeable = [&](const RecordHeader& row) {
    return !row.tombstone && row.expires_at_ms != 0 &&
           row.expires_at_ms < past_grace && row.expires_at_ms <= now_ms &&
           static_cast<int64_t>(NewestWriteMs(row)) < horizon;
  };
  std::vector<std::string> candidates;
  RETURN_IF_ERROR(ForEachRow(
      partition, [&](absl::string_view key, absl::string_view record) {
        ASSIGN_OR_RETURN(RecordHeader row, DecodeRecordHeader(record));
        if (purgeable(row)) candidates.push_back(EncodeRowKey(partition, key));
        return absl::OkStatus();
      }));
  size_t purged = 0;
  constexpr size_t kChunk = 256;  // rows per write, and stripes held at once
  for (size_t begin = 0; begin < candidates.size(); begin += kChunk) {
    const std::vector<std::string> chunk(
        candidates.begin() + begin,
        candidates.begin() + std::min(candidates.size(), begin + kChunk));
    const std::vector<size_t> stripes = LockStripes(chunk);
    absl::Cleanup unlock = [&] { UnlockStripes(stripes); };
    rocksdb::WriteBatch batch;
    StatsDelta delta;
    for (const std::string& row_key : chunk) {
      // Read again under the row's stripe: a write since the scan wins.
      rocksdb::PinnableSlice bytes;
      rocksdb::Status s =
          db_->Get(rocksdb::ReadOptions(), rows(), row_key, &bytes);
      if (s.IsNotFound()) continue;
      RETURN_IF_ERROR(FromRocks(s, "reading an expired row"));
      ASSIGN_OR_RETURN(RecordHeader row,
                       DecodeRecordHeader(absl::string_view(bytes.data(),
                                                            bytes.size())));
      if (!purgeable(row)) continue;
      batch.Delete(rows(), row_key);
      delta.keys -= 1;
      delta.bytes -= (row_key.size() - 4) + row.value_bytes;
    }
    if (batch.Count() == 0) continue;
    batch.Merge(stats_family(), StatsKey(partition), delta.Encode());
    RETURN_IF_ERROR(
        FromRocks(db_->Write(write_options_, &batch), "purging expired rows"));
    {
      absl::MutexLock lock(&stats_mu_);
      ApplyDelta(stats_[partition], delta);
    }
    purged += batch.Count() - 1;
  }
  return purged;
}

absl::StatusOr<size_t> Engine::ApplyBatch(
    uint32_t partition,
    const google::protobuf::RepeatedPtrField<StreamedRow>& rows) {
  std::vector<RowWrite> writes;
  writes.reserve(rows.size());
  for (const StreamedRow& row : rows) {
    writes.push_back({partition, row.key(), &row.value()});
  }
  std::vector<bool> stored;
  RETURN_IF_ERROR(ApplyMany(writes, &stored));
  return static_cast<size_t>(std::count(stored.begin(), stored.end(), true));
}

absl::StatusOr<VersionedValue> Engine::Read(uint32_t partition,
                                            absl::string_view key) const {
  rocksdb::PinnableSlice bytes;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[0],
                               EncodeRowKey(partition, key), &bytes);
  if (s.IsNotFound()) return absl::NotFoundError("key not found");
  if (!s.ok()) return FromRocks(s, "reading row");
  return DecodeRecord(absl::string_view(bytes.data(), bytes.size()));
}

absl::Status Engine::Compact() {
  return FromRocks(db_->CompactRange(rocksdb::CompactRangeOptions(),
                                     handles_[0], nullptr, nullptr),
                   "compacting rows");
}

Engine::PartitionScan::PartitionScan(rocksdb::DB* db,
                                     rocksdb::ColumnFamilyHandle* rows,
                                     rocksdb::ColumnFamilyHandle* paxos,
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
  paxos_it_.reset(db_->NewIterator(options, paxos));
  paxos_it_->Seek(EncodeRowKey(partition, ""));
  const std::string start = EncodeRowKey(partition, start_after);
  it_->Seek(start);
  if (!start_after.empty() && it_->Valid() && it_->key() == start) it_->Next();
}

Engine::PartitionScan::~PartitionScan() {
  it_.reset();
  paxos_it_.reset();
  db_->ReleaseSnapshot(snapshot_);
}

absl::StatusOr<bool> Engine::PartitionScan::Next(size_t max_bytes,
                                                 PartitionChunk* chunk) {
  size_t bytes = 0;
  for (; it_->Valid() && bytes < max_bytes; it_->Next()) {
    const absl::string_view row_key(it_->key().data(), it_->key().size());
    if (row_key >= end_) break;
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
  if (it_->Valid() &&
      absl::string_view(it_->key().data(), it_->key().size()) < end_) {
    return true;
  }
  // Every row is out: then the partition's Paxos states, so that a joining
  // replica knows the proposals accepted before it joined.
  for (; paxos_it_->Valid() && bytes < max_bytes; paxos_it_->Next()) {
    const absl::string_view row_key(paxos_it_->key().data(),
                                    paxos_it_->key().size());
    if (row_key >= end_) break;
    uint32_t partition;
    absl::string_view key;
    if (!DecodeRowKey(row_key, &partition, &key)) continue;
    PaxosRow* row = chunk->add_paxos();
    row->set_key(std::string(key));
    if (!row->mutable_state()->ParseFromArray(paxos_it_->value().data(),
                                              paxos_it_->value().size())) {
      return absl::DataLossError("corrupt Paxos state");
    }
    bytes += row_key.size() + paxos_it_->value().size();
  }
  if (!paxos_it_->status().ok()) {
    return FromRocks(paxos_it_->status(), "streaming Paxos states");
  }
  return paxos_it_->Valid() &&
         absl::string_view(paxos_it_->key().data(), paxos_it_->key().size()) <
             end_;
}

std::unique_ptr<Engine::PartitionScan> Engine::ScanPartition(
    uint32_t partition, absl::string_view start_after) {
  return std::unique_ptr<PartitionScan>(
      new PartitionScan(db_.get(), handles_[0], paxos_family(), partition,
                        start_after));
}

absl::Status Engine::ForEachRow(
    uint32_t partition,
    const std::function<absl::Status(absl::string_view key,
                                     absl::string_view record)>& visit) const {
  rocksdb::ReadOptions options;
  options.fill_cache = false;  // every row once: keep the cache for reads
  const std::string end = EncodeRowKey(partition + 1, "");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, rows()));
  for (it->Seek(EncodeRowKey(partition, "")); it->Valid(); it->Next()) {
    const absl::string_view row_key(it->key().data(), it->key().size());
    if (row_key >= end) break;
    uint32_t p;
    absl::string_view key;
    if (!DecodeRowKey(row_key, &p, &key)) continue;
    RETURN_IF_ERROR(
        visit(key, absl::string_view(it->value().data(), it->value().size())));
  }
  return FromRocks(it->status(), "scanning rows");
}

absl::StatusOr<Engine::Range> Engine::ReadRange(
    uint32_t partition, absl::string_view start_after, absl::string_view prefix,
    size_t limit, size_t max_bytes, bool keys_only) const {
  Range range;
  rocksdb::ReadOptions options;
  options.fill_cache = false;  // a scan reads each row once
  const std::string end = EncodeRowKey(partition + 1, "");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, rows()));
  const absl::string_view from = std::max(start_after, prefix);
  const std::string seek = EncodeRowKey(partition, from);
  it->Seek(seek);
  if (!start_after.empty() && from == start_after && it->Valid() &&
      it->key() == seek) {
    it->Next();
  }
  size_t bytes = 0;
  for (; it->Valid(); it->Next()) {
    const absl::string_view row_key(it->key().data(), it->key().size());
    uint32_t p;
    absl::string_view key;
    if (row_key >= end || !DecodeRowKey(row_key, &p, &key) ||
        !absl::StartsWith(key, prefix)) {
      break;
    }
    if (range.rows.size() >= limit || (bytes >= max_bytes && !range.rows.empty())) {
      range.truncated = true;
      break;
    }
    const absl::string_view record(it->value().data(), it->value().size());
    ASSIGN_OR_RETURN(VersionedValue value, DecodeRecord(record));
    if (keys_only) value.clear_value();
    StreamedRow& row = range.rows.emplace_back();
    row.set_key(std::string(key));
    *row.mutable_value() = std::move(value);
    bytes += row_key.size() + (keys_only ? 0 : record.size());
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scanning rows"));
  return range;
}

absl::Status Engine::ForEachRowHeader(
    uint32_t partition,
    const std::function<void(absl::string_view key, const RecordHeader&)>&
        visit) const {
  return ForEachRow(partition,
                    [&](absl::string_view key, absl::string_view record) {
                      ASSIGN_OR_RETURN(RecordHeader header,
                                       DecodeRecordHeader(record));
                      visit(key, header);
                      return absl::OkStatus();
                    });
}

absl::StatusOr<std::vector<StreamedRow>> Engine::RowsInLeaves(
    uint32_t partition, const absl::flat_hash_set<uint32_t>& leaves) const {
  std::vector<StreamedRow> found;
  RETURN_IF_ERROR(ForEachRow(
      partition, [&](absl::string_view key, absl::string_view record) {
        if (!leaves.contains(MerkleTree::LeafOf(key))) return absl::OkStatus();
        ASSIGN_OR_RETURN(VersionedValue value, DecodeRecord(record));
        StreamedRow& row = found.emplace_back();
        row.set_key(std::string(key));
        *row.mutable_value() = std::move(value);
        return absl::OkStatus();
      }));
  return found;
}

void Engine::SetRepairedBefore(uint32_t partition, absl::Time time) {
  horizons_->Set(partition, absl::ToUnixMillis(time));
}

bool Engine::HasRows(uint32_t partition) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), handles_[0]));
  it->Seek(EncodeRowKey(partition, ""));
  return it->Valid() && absl::string_view(it->key().data(), it->key().size()) <
                            EncodeRowKey(partition + 1, "");
}

absl::Status Engine::DropPartition(uint32_t partition) {
  rocksdb::WriteBatch batch;
  batch.DeleteRange(rows(), EncodeRowKey(partition, ""),
                    EncodeRowKey(partition + 1, ""));
  batch.Delete(stats_family(), StatsKey(partition));
  batch.DeleteRange(paxos_family(), EncodeRowKey(partition, ""),
                    EncodeRowKey(partition + 1, ""));
  rocksdb::Status s = db_->Write(write_options_, &batch);
  if (!s.ok()) return FromRocks(s, "dropping partition rows");
  absl::MutexLock lock(&stats_mu_);
  stats_.erase(partition);
  return absl::OkStatus();
}

Engine::StorageSizes Engine::Sizes() const {
  auto property = [this](const std::string& name) {
    uint64_t value = 0;
    return db_->GetAggregatedIntProperty(name, &value) ? value : 0;
  };
  StorageSizes sizes;
  sizes.sst_bytes = property(rocksdb::DB::Properties::kTotalSstFilesSize);
  sizes.memtable_bytes = property(rocksdb::DB::Properties::kCurSizeAllMemTables);
  sizes.live_data_bytes = property(rocksdb::DB::Properties::kEstimateLiveDataSize);
  sizes.pending_compaction_bytes =
      property(rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  return sizes;
}

absl::flat_hash_map<uint32_t, PartitionStats> Engine::Stats() const {
  absl::MutexLock lock(&stats_mu_);
  return stats_;
}

}  // namespace quorumkv
