#include "storage_node/node_metrics.h"

#include <vector>

namespace quorumkv {

void AddNodeMetrics(const NodeMetricSources& s, Metrics* metrics) {
  using prometheus::MetricType;
  metrics->AddValue("quorumkv_hints_pending",
                    "Hinted writes waiting for their replica (stored and "
                    "queued)",
                    MetricType::Gauge, [s] {
                      return s.engine->hints().pending() +
                             s.hint_writer->queued();
                    });
  metrics->AddValue("quorumkv_hints_replayed_total",
                    "Hinted writes delivered to their replica",
                    MetricType::Counter,
                    [s] { return s.hint_replayer->replayed(); });
  metrics->AddSource(
      "quorumkv_hints_dropped_total",
      "Hinted writes given up: past --hint_window or --max_hint_bytes "
      "(limits), or refused by their replica (refused); anti-entropy "
      "repairs those",
      MetricType::Counter, [s] {
        return std::vector<MetricSample>{
            {{{"reason", "limits"}},
             static_cast<double>(s.engine->hints().dropped())},
            {{{"reason", "refused"}},
             static_cast<double>(s.hint_replayer->refused())}};
      });
  metrics->AddValue(
      "quorumkv_superseded_leader_messages_ignored_total",
      "Directories and heartbeat answers ignored because they came from a "
      "leader whose term was superseded",
      MetricType::Counter,
      [s] { return static_cast<double>(s.fence->ignored()); });
  metrics->AddValue("quorumkv_coalesced_reads_total",
                    "Quorum reads answered by a round they shared with other "
                    "reads of the same key",
                    MetricType::Counter,
                    [s] { return s.coordinator->coalesced_reads(); });
  metrics->AddValue("quorumkv_read_repairs_total",
                    "Replicas a read found behind and sent the newest version",
                    MetricType::Counter,
                    [s] { return s.coordinator->read_repairs(); });
  metrics->AddValue("quorumkv_partitions_received_total",
                    "Partitions copied in completely by moves",
                    MetricType::Counter,
                    [s] { return s.receiver->partitions_received(); });
  metrics->AddValue("quorumkv_partition_bytes_received_total",
                    "Bytes of partition streams copied in by moves",
                    MetricType::Counter,
                    [s] { return s.receiver->bytes_received(); });
  metrics->AddValue("quorumkv_anti_entropy_rows_exchanged_total",
                    "Rows anti-entropy fetched from or sent to peers",
                    MetricType::Counter,
                    [s] { return s.anti_entropy->rows_exchanged(); });
  metrics->AddSource(
      "quorumkv_stored", "Live keys and their bytes held by this node",
      MetricType::Gauge, [s] {
        double keys = 0, bytes = 0;
        for (const auto& [partition, stats] : s.engine->Stats()) {
          keys += stats.keys;
          bytes += stats.bytes;
        }
        return std::vector<MetricSample>{{{{"unit", "keys"}}, keys},
                                         {{{"unit", "bytes"}}, bytes}};
      });
  metrics->AddSource(
      "quorumkv_rocksdb_bytes",
      "RocksDB sizes: table files (sst), unflushed memtables (memtable), "
      "estimated live data (live_data)",
      MetricType::Gauge, [s] {
        const Engine::StorageSizes sizes = s.engine->Sizes();
        return std::vector<MetricSample>{
            {{{"kind", "sst"}}, static_cast<double>(sizes.sst_bytes)},
            {{{"kind", "memtable"}}, static_cast<double>(sizes.memtable_bytes)},
            {{{"kind", "live_data"}},
             static_cast<double>(sizes.live_data_bytes)}};
      });
  metrics->AddSource(
      "quorumkv_cache_events_total",
      "The RAM tier's hits, misses and evictions, by cache (block, row)",
      MetricType::Counter, [s] {
        const Engine::CacheStats c = s.engine->Caches();
        std::vector<MetricSample> samples;
        for (const auto& [name, counters] :
             {std::pair<const char*, Engine::CacheCounters>{"block", c.block},
              {"row", c.row}}) {
          samples.push_back({{{"cache", name}, {"event", "hit"}},
                             static_cast<double>(counters.hits)});
          samples.push_back({{{"cache", name}, {"event", "miss"}},
                             static_cast<double>(counters.misses)});
          samples.push_back({{{"cache", name}, {"event", "eviction"}},
                             static_cast<double>(counters.evictions)});
        }
        return samples;
      });
  metrics->AddSource(
      "quorumkv_cache_bytes", "Bytes the RAM tier holds, and its capacity",
      MetricType::Gauge, [s] {
        const Engine::CacheStats c = s.engine->Caches();
        return std::vector<MetricSample>{
            {{{"cache", "block"}, {"kind", "held"}}, static_cast<double>(c.block.bytes)},
            {{{"cache", "row"}, {"kind", "held"}}, static_cast<double>(c.row.bytes)},
            {{{"cache", "block"}, {"kind", "capacity"}},
             static_cast<double>(c.block.capacity)},
            {{{"cache", "row"}, {"kind", "capacity"}},
             static_cast<double>(c.row.capacity)}};
      });
  metrics->AddValue("quorumkv_rocksdb_pending_compaction_bytes",
                    "Bytes RocksDB estimates compaction still has to rewrite",
                    MetricType::Gauge, [s] {
                      return s.engine->Sizes().pending_compaction_bytes;
                    });
  metrics->AddValue("quorumkv_directory_epoch",
                    "Epoch of the directory this node routes by",
                    MetricType::Gauge,
                    [s] { return s.directory->epoch(); });
}

}  // namespace quorumkv
