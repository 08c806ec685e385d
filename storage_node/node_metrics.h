// A storage node's own metrics (docs/operations.md), read at each scrape
// from the counters its parts keep anyway: hints pending, replayed and
// dropped; read repairs; partitions and bytes streamed in; anti-entropy rows
// exchanged; keys and bytes held; RocksDB sizes and pending compaction; the
// directory epoch. Request counts and latencies are
// common/request_metrics.h, counted by the KvService.
#ifndef QUORUMKV_STORAGE_NODE_NODE_METRICS_H_
#define QUORUMKV_STORAGE_NODE_NODE_METRICS_H_

#include "common/directory.h"
#include "common/metrics.h"
#include "storage_node/anti_entropy.h"
#include "storage_node/coordinator.h"
#include "storage_node/engine.h"
#include "storage_node/hint_replayer.h"
#include "storage_node/hint_writer.h"
#include "storage_node/partition_receiver.h"
#include "storage_node/term_fence.h"

namespace quorumkv {

// The parts read; each must outlive the scrapes.
struct NodeMetricSources {
  Engine* engine = nullptr;
  const HintWriter* hint_writer = nullptr;
  const HintReplayer* hint_replayer = nullptr;
  const Coordinator* coordinator = nullptr;
  const AntiEntropy* anti_entropy = nullptr;
  const PartitionReceiver* receiver = nullptr;
  const DirectoryHolder* directory = nullptr;
  const TermFence* fence = nullptr;
};

void AddNodeMetrics(const NodeMetricSources& sources, Metrics* metrics);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_NODE_METRICS_H_
