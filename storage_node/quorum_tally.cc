#include "storage_node/quorum_tally.h"

#include "common/hlc.h"
#include "storage_node/row_registers.h"

namespace quorumkv {

WriteVerdict Conclude(const WriteTally& tally) {
  if (tally.acks >= tally.needed) return WriteVerdict::kAcknowledged;
  if (tally.acks + tally.failures < tally.replicas) return WriteVerdict::kWaiting;
  return tally.newer_epoch ? WriteVerdict::kRouteAgain
                           : WriteVerdict::kQuorumNotReached;
}

absl::StatusCode QuorumFailureCode(absl::Time deadline, absl::Time now) {
  return now >= deadline ? absl::StatusCode::kDeadlineExceeded
                         : absl::StatusCode::kUnavailable;
}

ReadVerdict Conclude(const ReadTally& tally) {
  if (tally.answered >= tally.needed) return ReadVerdict::kQuorum;
  return tally.outstanding == 0 ? ReadVerdict::kQuorumNotReached
                                : ReadVerdict::kWaiting;
}

std::optional<VersionedValue> Newest(const std::vector<ReplicaValue>& answers) {
  std::optional<VersionedValue> newest;
  for (const ReplicaValue& answer : answers) {
    if (!answer.value) continue;
    newest = newest ? Merge(*newest, *answer.value) : *answer.value;
  }
  return newest;
}

std::vector<std::string> Behind(const std::vector<ReplicaValue>& answers,
                                const VersionedValue& newest) {
  std::vector<std::string> behind;
  for (const ReplicaValue& answer : answers) {
    if (!answer.value || PlanMerge(*answer.value, newest).Changes()) {
      behind.push_back(answer.node_id);
    }
  }
  return behind;
}

}  // namespace quorumkv
