#include "storage_node/quorum_tally.h"

#include "common/hlc.h"

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

const VersionedValue* Newest(const std::vector<ReplicaValue>& answers) {
  const VersionedValue* newest = nullptr;
  for (const ReplicaValue& answer : answers) {
    if (answer.value &&
        (newest == nullptr ||
         VersionLess(newest->version(), answer.value->version()))) {
      newest = &*answer.value;
    }
  }
  return newest;
}

std::vector<std::string> Behind(const std::vector<ReplicaValue>& answers,
                                const VersionedValue& newest) {
  std::vector<std::string> behind;
  for (const ReplicaValue& answer : answers) {
    if (!answer.value ||
        VersionLess(answer.value->version(), newest.version())) {
      behind.push_back(answer.node_id);
    }
  }
  return behind;
}

}  // namespace quorumkv
