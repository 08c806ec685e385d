#include "master/anti_entropy_scheduler.h"

#include <algorithm>

namespace quorumkv {

AntiEntropyScheduler::AntiEntropyScheduler(absl::Duration interval,
                                           uint64_t rate)
    : interval_(interval), rate_(rate) {}

AntiEntropyScheduler::PartitionState& AntiEntropyScheduler::StateOf(
    uint32_t partition) {
  if (partition >= partitions_.size()) partitions_.resize(partition + 1);
  return partitions_[partition];
}

void AntiEntropyScheduler::OnHeartbeat(
    const HeartbeatRequest& request, const DirectoryView& directory,
    const absl::flat_hash_set<std::string>& down, absl::Time now,
    HeartbeatResponse* response) {
  const std::string& node = request.node_id();
  absl::MutexLock lock(&mu_);
  const AntiEntropyReport& report = request.anti_entropy();
  if (report.started_ms() != 0 && report.started_ms() != reported_[node]) {
    reported_[node] = report.started_ms();
    rows_exchanged_ += report.rows_exchanged();
    PartitionState& state = StateOf(report.partition());
    if (state.assigned_to == node) state.assigned_to.clear();
    state.last_reported = now;
    if (report.complete()) {
      state.last_completed = now;
      state.repaired_before_ms =
          std::max(state.repaired_before_ms, report.started_ms());
    }
  }
  if (directory.formed()) {
    bool busy = false;
    for (PartitionState& state : partitions_) {
      if (state.assigned_to == node && now - state.assigned_at < kTaskTimeout) {
        busy = true;
      }
    }
    int64_t best = -1;
    for (uint32_t p = 0; !busy && p < directory.partitions(); ++p) {
      PartitionState& state = StateOf(p);
      if (!directory.Holds(node, p) || !directory.Joining(p).empty()) continue;
      if (!state.assigned_to.empty() && now - state.assigned_at < kTaskTimeout) {
        continue;
      }
      if (now - state.last_completed < interval_ ||
          now - state.last_reported < std::min(interval_, kRetryAfter)) {
        continue;
      }
      const auto& replicas = directory.Replicas(p);
      if (std::any_of(replicas.begin(), replicas.end(),
                      [&](const std::string& id) { return down.contains(id); })) {
        continue;
      }
      if (best < 0 || state.last_completed < StateOf(best).last_completed) {
        best = p;
      }
    }
    if (best >= 0) {
      PartitionState& state = StateOf(best);
      state.assigned_to = node;
      state.assigned_at = now;
      response->mutable_anti_entropy()->set_partition(best);
      response->mutable_anti_entropy()->set_rate(rate_);
    }
  }
  for (uint32_t p = 0; p < partitions_.size(); ++p) {
    if (partitions_[p].repaired_before_ms == 0) continue;
    PartitionRepaired* repaired = response->add_repaired();
    repaired->set_partition(p);
    repaired->set_repaired_before_ms(partitions_[p].repaired_before_ms);
  }
}

AntiEntropyScheduler::Summary AntiEntropyScheduler::Summarize(
    uint32_t partitions, absl::Time now) const {
  Summary summary;
  absl::Time oldest = absl::InfiniteFuture();
  absl::MutexLock lock(&mu_);
  summary.rows_exchanged = rows_exchanged_;
  for (uint32_t p = 0; p < partitions; ++p) {
    const absl::Time completed = p < partitions_.size()
                                     ? partitions_[p].last_completed
                                     : absl::InfinitePast();
    if (completed != absl::InfinitePast()) ++summary.compared;
    oldest = std::min(oldest, completed);
  }
  if (summary.compared == partitions && partitions > 0) {
    summary.oldest = now - oldest;
  }
  return summary;
}

}  // namespace quorumkv
