// The master's own metrics (docs/operations.md), read from the cluster's
// state at each scrape: directory epoch, nodes by state, under-replicated
// partitions, moves in flight and their totals, anti-entropy rows
// exchanged, whether this master leads and the leader's term. The relay's request metrics are common/request_metrics.h.
#ifndef QUORUMKV_MASTER_MASTER_METRICS_H_
#define QUORUMKV_MASTER_MASTER_METRICS_H_

#include "common/metrics.h"
#include "master/cluster_status.h"
#include "master/leadership.h"
#include "master/move_tracker.h"

namespace quorumkv {

// Pointers must outlive `metrics`' scrapes.
void AddMasterMetrics(const ClusterStatusReporter* status,
                      const MoveTracker* moves, const Leadership* leadership,
                      Metrics* metrics);

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_MASTER_METRICS_H_
