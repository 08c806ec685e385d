// What a quorum round concludes from the answers it has so far: pure
// functions over counts and answered values, so that their decisions are
// tested over many shapes without a cluster (tests/quorum_tally_test.cc).
// The coordinator's write and read paths (quorum_writer.h,
// quorum_reader.h) keep the counts and act on the verdicts.
#ifndef QUORUMKV_STORAGE_NODE_QUORUM_TALLY_H_
#define QUORUMKV_STORAGE_NODE_QUORUM_TALLY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/replica.pb.h"

namespace quorumkv {

// The answers to one write from the full replicas it was sent to.
struct WriteTally {
  uint32_t needed = 0;    // W
  uint32_t replicas = 0;  // full replicas the write went to
  uint32_t acks = 0;
  uint32_t failures = 0;
  // A replica refused it from a newer directory epoch than the write's.
  bool newer_epoch = false;
};

enum class WriteVerdict {
  kWaiting,           // answers still to come could decide it
  kAcknowledged,      // W replicas acknowledged: answer OK
  kRouteAgain,        // every replica answered, too few acknowledged, and
                      // one routes by a newer epoch: WrongNode, the
                      // client refreshes and retries
  kQuorumNotReached,  // every replica answered, too few acknowledged
};

// Acknowledged as soon as W acknowledged; otherwise only once every
// replica has answered (or timed out), so that the count it reports is
// exact.
WriteVerdict Conclude(const WriteTally& tally);

// The code of a quorum failure concluded at `now`: DEADLINE_EXCEEDED once
// the round's deadline has passed (replicas timed out), UNAVAILABLE before
// (they failed).
absl::StatusCode QuorumFailureCode(absl::Time deadline, absl::Time now);

// The answers to one read so far.
struct ReadTally {
  uint32_t needed = 0;    // R
  uint32_t answered = 0;  // replicas that answered (with a value or none)
  // Asked and not answered yet, retries on further replicas included.
  uint32_t outstanding = 0;
};

enum class ReadVerdict { kWaiting, kQuorum, kQuorumNotReached };

// A quorum once R answered; not reached once nothing is outstanding (a
// failed replica is replaced by the next one before this is asked).
ReadVerdict Conclude(const ReadTally& tally);

// One replica's answer to a read.
struct ReplicaValue {
  std::string node_id;
  std::optional<VersionedValue> value;  // nullopt: it never saw the key
};

// The newest of each register among `answers` (row_registers.h): the
// newest value (it may be a tombstone) with the newest expiry; nullopt
// when no replica has seen the key.
std::optional<VersionedValue> Newest(const std::vector<ReplicaValue>& answers);

// The replicas whose answer is older than `newest` in either register, or
// missing: what read repair sends `newest` to.
std::vector<std::string> Behind(const std::vector<ReplicaValue>& answers,
                                const VersionedValue& newest);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_QUORUM_TALLY_H_
