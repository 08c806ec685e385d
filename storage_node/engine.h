// The storage engine of a storage node: versioned values and tombstones per
// partition in RocksDB, where the highest version always wins whatever the
// order writes arrive in.
//
// Owns the node's RocksDB (column families "default" for rows, see
// storage_node/record.h, "hints", see storage_node/hints.h, "stats" and
// "paxos", the state of conditional writes, see storage_node/paxos). Tombstones
// older than the grace period are purged by compaction, expired values by
// PurgeExpired(). Rows hold two registers, the value and its expiry, merged
// independently (storage_node/row_registers.h). Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_ENGINE_H_
#define QUORUMKV_STORAGE_NODE_ENGINE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/replica.pb.h"
#include "rocksdb/cache.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/db.h"
#include "rocksdb/merge_operator.h"
#include "rocksdb/statistics.h"
#include "storage_node/hints.h"
#include "storage_node/record.h"

namespace quorumkv {

struct PartitionStats {
  uint64_t keys = 0;   // live keys (tombstones excluded)
  uint64_t bytes = 0;  // bytes of live keys and values
};

struct EngineOptions {
  // Tombstones younger than this are kept, so a replica that missed a
  // delete cannot resurrect the value through repair or hints.
  absl::Duration tombstone_grace = absl::Hours(24);
  // Sync the write-ahead log before a write returns. Each ApplyMany() is one
  // RocksDB write, so the rows of one peer-stream message share one sync.
  bool sync_writes = false;
  // Bounds of the hints the node keeps for others.
  HintLimits hint_limits;
  // The RAM tier (--cache_size): RocksDB's block cache (three quarters)
  // and row cache (a quarter), both least-recently-used, as memcached's
  // memory is. 0: DefaultCacheBytes().
  uint64_t cache_bytes = 0;
};

// The RAM tier's size when none is given: a sixteenth of the machine's
// memory, at most 1 GiB (several nodes share a machine in tests and the
// local cluster, and RocksDB takes the memory only as rows are read).
uint64_t DefaultCacheBytes();
// The machine's memory (0 when it cannot be read).
uint64_t PhysicalMemoryBytes();

// One row to store: views into the caller's data, which must outlive the
// call.
struct RowWrite {
  uint32_t partition = 0;
  absl::string_view key;
  const VersionedValue* value = nullptr;
};

class PurgeHorizons;  // engine.cc

class Engine {
 public:
  // Opens or creates the database in `dir`. Per-partition statistics are
  // kept in the database itself, updated in the same write as the rows, so
  // opening reads a few dozen counters instead of every row (a database
  // written before they existed is scanned once, then never again).
  static absl::StatusOr<std::unique_ptr<Engine>> Open(
      const std::string& dir, const EngineOptions& options = {});
  ~Engine();

  // Stores `value` (a tombstone or not) unless the key already holds an
  // equal or higher version. Returns whether it stored it.
  absl::StatusOr<bool> Apply(uint32_t partition, absl::string_view key,
                             const VersionedValue& value);

  // Apply() for many rows in one RocksDB write: one MultiGet of their
  // stored headers (the version to beat, never the value), one write batch
  // with the rows and the statistics they change. How the rows of a
  // peer-stream message and of a streamed chunk are stored. `stored[i]` says
  // whether rows[i] was newer than what the node held; a later row for the
  // same key competes with the earlier one. `had_value[i]` (when given)
  // whether the key held a value, not a tombstone, before. The status fails
  // the whole call.
  absl::Status ApplyMany(absl::Span<const RowWrite> rows,
                         std::vector<bool>* stored,
                         std::vector<bool>* had_value = nullptr);

  // ApplyMany() for a streamed chunk of one partition. Returns how many rows
  // it stored.
  absl::StatusOr<size_t> ApplyBatch(
      uint32_t partition,
      const google::protobuf::RepeatedPtrField<StreamedRow>& rows);

  // The newest version of `key`, tombstones included. NOT_FOUND when the key
  // was never written (or its tombstone was purged).
  absl::StatusOr<VersionedValue> Read(uint32_t partition,
                                      absl::string_view key) const;

  absl::flat_hash_map<uint32_t, PartitionStats> Stats() const;

  // RocksDB's own figures, summed over rows, hints and statistics; read
  // from its properties (cheap: no I/O).
  struct StorageSizes {
    uint64_t sst_bytes = 0;          // table files on disk
    uint64_t memtable_bytes = 0;     // not yet flushed
    uint64_t live_data_bytes = 0;    // estimate, after compaction
    uint64_t pending_compaction_bytes = 0;  // estimate
  };
  StorageSizes Sizes() const;

  // The RAM tier's counters since the engine opened. Evictions are the
  // rows or blocks inserted less those still held.
  struct CacheCounters {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t evictions = 0;
    uint64_t bytes = 0;     // held now
    uint64_t capacity = 0;  // bytes
  };
  struct CacheStats {
    CacheCounters block;  // blocks of table files
    CacheCounters row;    // single rows of point reads
  };
  CacheStats Caches() const;
  // Writes the memtables out to table files, where the row cache serves
  // reads from (tests).
  absl::Status Flush();

  // A consistent view of one partition's rows, taken when it is created
  // (a RocksDB snapshot), read in key order in bounded chunks. Used by the
  // source of a partition stream. Not thread-safe; must not outlive the
  // engine.
  class PartitionScan {
   public:
    ~PartitionScan();
    // Appends rows to `chunk` until it holds about `max_bytes` (at least one
    // row); false once every row has been read.
    absl::StatusOr<bool> Next(size_t max_bytes, PartitionChunk* chunk);

   private:
    friend class Engine;
    PartitionScan(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* rows,
                  rocksdb::ColumnFamilyHandle* paxos, uint32_t partition,
                  absl::string_view start_after);
    rocksdb::DB* const db_;
    const rocksdb::Snapshot* const snapshot_;
    const std::string end_;  // first row key past the partition
    std::unique_ptr<rocksdb::Iterator> it_;
    // The partition's Paxos states, sent once every row is.
    std::unique_ptr<rocksdb::Iterator> paxos_it_;
  };
  // Rows of `partition` with user keys after `start_after` ("" for all).
  std::unique_ptr<PartitionScan> ScanPartition(uint32_t partition,
                                               absl::string_view start_after);

  // A page of a scan: the rows of `partition` after `start_after` whose
  // keys start with `prefix`, tombstones and expired rows included, in key
  // order; at most `limit` rows and about `max_bytes` (at least one row).
  // `truncated` says whether more rows follow. With `keys_only` values are
  // left empty.
  struct Range {
    std::vector<StreamedRow> rows;
    bool truncated = false;
  };
  absl::StatusOr<Range> ReadRange(uint32_t partition,
                                  absl::string_view start_after,
                                  absl::string_view prefix, size_t limit,
                                  size_t max_bytes, bool keys_only) const;

  // Visits every row of `partition` from one snapshot, in key order, with
  // its header (version, tombstone); values are not decoded. For
  // anti-entropy's hash tree.
  absl::Status ForEachRowHeader(
      uint32_t partition,
      const std::function<void(absl::string_view key, const RecordHeader&)>&
          visit) const;
  // The rows of `partition` (tombstones included) whose keys fall in
  // `leaves` of the anti-entropy hash tree.
  absl::StatusOr<std::vector<StreamedRow>> RowsInLeaves(
      uint32_t partition, const absl::flat_hash_set<uint32_t>& leaves) const;

  // Every replica of `partition` held every row written before `time`, as
  // of a completed anti-entropy pass: a tombstone older than that, and past
  // the grace period, cannot be missing anywhere, so compaction may purge it.
  // Until this is called for a partition its tombstones are kept.
  void SetRepairedBefore(uint32_t partition, absl::Time time);
  // The partitions whose SetRepairedBefore() time moved since the last
  // call: where PurgeExpired() may find something new.
  std::vector<uint32_t> TakeRepairedPartitions();

  // Deletes the rows of `partition` whose value expired more than the
  // grace period ago and whose registers were both written before its
  // SetRepairedBefore() time: every replica holds the expiry then, so no
  // repair can bring the value back. Keeps the statistics
  // exact, which a compaction filter could not. Returns how many rows it
  // deleted. Scans the partition outside the block cache.
  absl::StatusOr<size_t> PurgeExpired(uint32_t partition);

  // A step of a key's Paxos round (storage_node/paxos/acceptor.h): runs
  // `step` under the key's lock with the key's Paxos state (empty when it
  // has none) and its current row (null when none); when `step` returns
  // true the state it left is stored.
  using PaxosStep =
      std::function<bool(PaxosState* state, const VersionedValue* current)>;
  absl::Status UpdatePaxos(uint32_t partition, absl::string_view key,
                           const PaxosStep& step);
  // Merges Paxos states streamed with a partition into those held.
  absl::Status MergePaxos(
      uint32_t partition,
      const google::protobuf::RepeatedPtrField<PaxosRow>& streamed);

  // Whether any row (tombstones included) of `partition` is stored.
  bool HasRows(uint32_t partition) const;
  // Deletes every row of `partition` (one range tombstone) and forgets its
  // statistics. The caller makes sure the node holds the partition no more.
  absl::Status DropPartition(uint32_t partition);

  // Compacts every row now; tombstones past the grace period are dropped
  // (RocksDB also compacts on its own as data grows).
  absl::Status Compact();

  HintStore& hints() { return *hints_; }
  absl::Duration tombstone_grace() const { return tombstone_grace_; }

 private:
  Engine(std::shared_ptr<PurgeHorizons> horizons,
         std::unique_ptr<rocksdb::CompactionFilter> purger,
         std::unique_ptr<rocksdb::MergeOperator> adder,
         std::unique_ptr<rocksdb::DB> db,
         std::vector<rocksdb::ColumnFamilyHandle*> handles,
         const EngineOptions& options);
  // Reads the stored statistics; scans every row once when the database
  // has none yet, and stores what it counted.
  absl::Status LoadStats();
  // Visits every row of `partition` in key order with its encoded record,
  // outside the block cache; stops at the first error `visit` returns.
  absl::Status ForEachRow(
      uint32_t partition,
      const std::function<absl::Status(absl::string_view key,
                                       absl::string_view record)>& visit)
      const;
  absl::Status ScanStats();
  // Locks the stripes of `row_keys` in one global order; returns them for
  // UnlockStripes().
  std::vector<size_t> LockStripes(const std::vector<std::string>& row_keys);
  void UnlockStripes(const std::vector<size_t>& stripes);
  rocksdb::ColumnFamilyHandle* rows() const { return handles_[0]; }
  rocksdb::ColumnFamilyHandle* stats_family() const { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* paxos_family() const { return handles_[3]; }

  // Constant after construction. The compaction filter and the merge
  // operator outlive the DB.
  std::unique_ptr<rocksdb::CompactionFilter> purger_;
  std::unique_ptr<rocksdb::MergeOperator> adder_;
  std::unique_ptr<rocksdb::DB> db_;
  // The RAM tier and what counts its hits; set by Open().
  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::shared_ptr<rocksdb::Cache> row_cache_;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  static constexpr absl::Duration kCacheCountEvery = absl::Seconds(10);
  mutable absl::Mutex cache_count_mu_;
  mutable absl::Time cache_counted_at_ ABSL_GUARDED_BY(cache_count_mu_) =
      absl::InfinitePast();
  // Entries held by the block and row caches at the last count.
  mutable std::pair<uint64_t, uint64_t> cache_entries_
      ABSL_GUARDED_BY(cache_count_mu_);
  // [rows, hints, stats, paxos]
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  const rocksdb::WriteOptions write_options_;
  std::unique_ptr<HintStore> hints_;
  // Shared with the compaction filter (which RocksDB calls from its own
  // threads): per partition, the time SetRepairedBefore() gave.
  std::shared_ptr<PurgeHorizons> horizons_;
  const absl::Duration tombstone_grace_;

  // Serialize read-modify-write of one key; never held across a network
  // call. Lock order: a stripe before stats_mu_.
  std::array<absl::Mutex, 64> stripes_;

  mutable absl::Mutex stats_mu_;
  absl::flat_hash_map<uint32_t, PartitionStats> stats_
      ABSL_GUARDED_BY(stats_mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_ENGINE_H_
