#include "master/master_metrics.h"

#include <map>
#include <string>
#include <vector>

#include "proto/master.pb.h"

namespace quorumkv {

void AddMasterMetrics(const ClusterStatusReporter* status,
                      const MoveTracker* moves, const Leadership* leadership,
                      Metrics* metrics) {
  using prometheus::MetricType;
  metrics->AddValue("quorumkv_master_is_leader",
                    "1 while this master leads, 0 while it is a standby",
                    MetricType::Gauge,
                    [leadership] { return leadership->IsLeader() ? 1 : 0; });
  metrics->AddValue("quorumkv_master_term",
                    "The leader's term as this master knows it (0: the "
                    "embedded master)",
                    MetricType::Gauge, [leadership] {
                      return static_cast<double>(leadership->term());
                    });
  metrics->AddValue("quorumkv_directory_epoch",
                    "Epoch of the master's directory", MetricType::Gauge,
                    [status] { return status->Describe().epoch(); });
  metrics->AddSource(
      "quorumkv_nodes", "Storage nodes known to the master, by state",
      MetricType::Gauge, [status] {
        std::map<std::string, double> counts;
        for (NodeState state : {UP, DOWN, DECOMMISSIONING, REMOVED}) {
          counts[NodeState_Name(state)] = 0;
        }
        const ClusterStatusResponse cluster = status->Describe();
        for (const NodeStatus& node : cluster.nodes()) {
          ++counts[NodeState_Name(node.state())];
        }
        std::vector<MetricSample> samples;
        for (const auto& [state, count] : counts) {
          samples.push_back({{{"state", state}}, count});
        }
        return samples;
      });
  metrics->AddValue("quorumkv_partitions_under_replicated",
                    "Partitions with fewer than N full replicas on UP nodes",
                    MetricType::Gauge,
                    [status] { return status->Describe().under_replicated(); });
  metrics->AddValue("quorumkv_partitions_misplaced",
                    "Partitions whose replicas span fewer racks than "
                    "placement wants where racks allow",
                    MetricType::Gauge,
                    [status] { return status->Describe().misplaced(); });
  metrics->AddValue("quorumkv_moves_in_flight",
                    "Partition moves started and not yet switched or cancelled",
                    MetricType::Gauge,
                    [status] { return status->Describe().moves(); });
  metrics->AddSource(
      "quorumkv_moves_total",
      "Partition moves since the master started, by what happened to them",
      MetricType::Counter, [moves] {
        const MoveTracker::Counters c = moves->counters();
        return std::vector<MetricSample>{
            {{{"event", "started"}}, static_cast<double>(c.started)},
            {{{"event", "completed"}}, static_cast<double>(c.completed)},
            {{{"event", "cancelled"}}, static_cast<double>(c.cancelled)}};
      });
  metrics->AddValue(
      "quorumkv_anti_entropy_partitions_compared",
      "Partitions whose replicas anti-entropy compared since the master "
      "started",
      MetricType::Gauge,
      [status] { return status->Describe().anti_entropy_compared(); });
}

}  // namespace quorumkv
