#include "master/anti_entropy_scheduler.h"

#include <algorithm>
#include <string>

#include "absl/random/random.h"

namespace quorumkv {

AntiEntropyScheduler::AntiEntropyScheduler(absl::Duration interval,
                                           uint64_t rate)
    : interval_(interval),
      rate_(rate),
      repaired_source_(absl::Uniform<uint64_t>(absl::BitGen(), 1,
                                               ~uint64_t{0})) {}

void AntiEntropyScheduler::SetRepairedBefore(PartitionState& state,
                                             int64_t before_ms) {
  if (before_ms <= state.repaired_before_ms) return;
  state.repaired_before_ms = before_ms;
  state.repaired_version = ++repaired_version_;
}

AntiEntropyScheduler::PartitionState& AntiEntropyScheduler::StateOf(
    uint32_t partition) {
  if (partition >= partitions_.size()) partitions_.resize(partition + 1);
  return partitions_[partition];
}

void AntiEntropyScheduler::OnRegistered(const std::string& node) {
  absl::MutexLock lock(&mu_);
  for (PartitionState& state : partitions_) {
    if (state.assigned_to == node) state.assigned_to.clear();
  }
}

void AntiEntropyScheduler::MarkDiverged(uint32_t partition, absl::Time now) {
  absl::MutexLock lock(&mu_);
  MarkDivergedLocked(partition, now);
}

void AntiEntropyScheduler::MarkDivergedLocked(uint32_t partition,
                                              absl::Time now) {
  PartitionState& state = StateOf(partition);
  // The first mark counts for the order; a pass handed out after the last
  // one clears it (OnHeartbeat), hence a later mark resets nothing.
  if (state.diverged_at == absl::InfinitePast()) state.diverged_at = now;
  state.marked_last = now;
}

bool AntiEntropyScheduler::Eligible(
    const std::string& node, uint32_t p, const DirectoryView& directory,
    const absl::flat_hash_set<std::string>& down, absl::Time now) {
  PartitionState& state = StateOf(p);
  if (!directory.Holds(node, p) || !directory.Joining(p).empty()) return false;
  if (!state.assigned_to.empty() && now - state.assigned_at < kTaskTimeout) {
    return false;
  }
  const auto& replicas = directory.Replicas(p);
  return std::none_of(replicas.begin(), replicas.end(),
                      [&](const std::string& id) { return down.contains(id); });
}

void AntiEntropyScheduler::OnHeartbeat(
    const HeartbeatRequest& request, const DirectoryView& directory,
    const absl::flat_hash_set<std::string>& down, absl::Time now,
    HeartbeatResponse* response) {
  const std::string& node = request.node_id();
  absl::MutexLock lock(&mu_);
  for (uint32_t p : request.diverged_partitions()) {
    if (p < directory.partitions()) MarkDivergedLocked(p, now);
  }
  const AntiEntropyReport& report = request.anti_entropy();
  const std::pair<int64_t, uint64_t> pass{report.started_ms(),
                                          report.sequence()};
  if (report.started_ms() != 0 && pass != reported_[node]) {
    reported_[node] = pass;
    rows_exchanged_ += report.rows_exchanged();
    bytes_exchanged_ += report.bytes_exchanged();
    PartitionState& state = StateOf(report.partition());
    const bool assigned_here = state.assigned_to == node;
    if (assigned_here) state.assigned_to.clear();
    state.last_reported = now;
    if (report.complete()) {
      state.last_completed = now;
      SetRepairedBefore(state, report.started_ms());
      // Handed out after the last mark: every row written before it is on
      // every replica now.
      if (assigned_here && state.assigned_at >= state.marked_last) {
        state.diverged_at = absl::InfinitePast();
      }
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
    // 1. What may have diverged, longest waiting first.
    for (uint32_t p = 0; !busy && p < directory.partitions(); ++p) {
      PartitionState& state = StateOf(p);
      // A pass that failed (a replica stopped answering) is tried again
      // after a short pause.
      const bool failed_lately = state.last_reported != state.last_completed &&
                                 now - state.last_reported < kDivergedRetryAfter;
      if (state.diverged_at == absl::InfinitePast() || failed_lately ||
          !Eligible(node, p, directory, down, now)) {
        continue;
      }
      if (best < 0 || state.diverged_at < StateOf(best).diverged_at) best = p;
    }
    // 2. The oldest comparison, once `interval` has passed.
    for (uint32_t p = 0; !busy && best < 0 && p < directory.partitions(); ++p) {
      PartitionState& state = StateOf(p);
      if (now - state.last_completed < interval_ ||
          now - state.last_reported < std::min(interval_, kRetryAfter) ||
          !Eligible(node, p, directory, down, now)) {
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
  const RepairedCursor& known = request.repaired_known();
  const uint64_t since =
      known.source() == repaired_source_ ? known.version() : 0;
  if (since < repaired_version_) {
    for (uint32_t p = 0; p < partitions_.size(); ++p) {
      const PartitionState& state = partitions_[p];
      if (state.repaired_before_ms == 0 || state.repaired_version <= since) {
        continue;
      }
      PartitionRepaired* repaired = response->add_repaired();
      repaired->set_partition(p);
      repaired->set_repaired_before_ms(state.repaired_before_ms);
    }
  }
  response->mutable_repaired_cursor()->set_source(repaired_source_);
  response->mutable_repaired_cursor()->set_version(repaired_version_);
}

AntiEntropyProgress AntiEntropyScheduler::Export() const {
  AntiEntropyProgress progress;
  absl::MutexLock lock(&mu_);
  for (uint32_t p = 0; p < partitions_.size(); ++p) {
    const PartitionState& state = partitions_[p];
    if (state.last_completed == absl::InfinitePast()) continue;
    AntiEntropyProgress::Partition* out = progress.add_partitions();
    out->set_partition(p);
    out->set_last_completed_ms(absl::ToUnixMillis(state.last_completed));
    out->set_repaired_before_ms(state.repaired_before_ms);
  }
  return progress;
}

void AntiEntropyScheduler::Import(const AntiEntropyProgress& progress) {
  absl::MutexLock lock(&mu_);
  for (const AntiEntropyProgress::Partition& p : progress.partitions()) {
    PartitionState& state = StateOf(p.partition());
    state.last_completed = std::max(state.last_completed,
                                    absl::FromUnixMillis(p.last_completed_ms()));
    SetRepairedBefore(state, p.repaired_before_ms());
  }
}

AntiEntropyScheduler::Summary AntiEntropyScheduler::Summarize(
    uint32_t partitions, absl::Time now) const {
  Summary summary;
  absl::Time oldest = absl::InfiniteFuture();
  absl::MutexLock lock(&mu_);
  summary.rows_exchanged = rows_exchanged_;
  summary.bytes_exchanged = bytes_exchanged_;
  for (uint32_t p = 0; p < partitions; ++p) {
    const absl::Time completed = p < partitions_.size()
                                     ? partitions_[p].last_completed
                                     : absl::InfinitePast();
    if (completed != absl::InfinitePast()) ++summary.compared;
    if (p < partitions_.size() &&
        partitions_[p].diverged_at != absl::InfinitePast()) {
      ++summary.diverged;
    }
    oldest = std::min(oldest, completed);
  }
  if (summary.compared == partitions && partitions > 0) {
    summary.oldest = now - oldest;
  }
  return summary;
}

}  // namespace quorumkv
