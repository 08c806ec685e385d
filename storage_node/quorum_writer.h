// The coordinator's write path: a put or delete for a partition this node
// holds. The value is stamped with this node's hybrid clock, stored here
// first (W=1 answers without the network) and sent to the other full and
// joining replicas in parallel; the caller is answered after W
// acknowledgements (quorum_tally.h decides), and delivery to the rest goes
// on, with a durable hint for each replica that fails. A write that cannot
// reach W because too few replicas are alive is refused before anything is
// stored or hinted.
//
// Nothing blocks: `done` runs once, on the thread that completes the
// quorum. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_QUORUM_WRITER_H_
#define QUORUMKV_STORAGE_NODE_QUORUM_WRITER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "common/hlc.h"
#include "storage_node/hint_writer.h"
#include "storage_node/replica_access.h"

namespace quorumkv {

struct WriteOutcome {
  Version version;
  uint32_t acks = 0;
  // An acknowledging replica held a value (not a tombstone) before.
  bool existed = false;
};

class QuorumWriter {
 public:
  using WriteDone = std::function<void(absl::StatusOr<WriteOutcome>)>;

  // Pointers must outlive the writer and every write in flight.
  QuorumWriter(ReplicaAccess* replicas, HybridClock* clock, HintWriter* hints);

  // Writes `value` (its version is stamped here) to the replicas of
  // `partition` in `directory`, which must include this node. `done` runs
  // once: OK after `w` acknowledgements; UNAVAILABLE (DEADLINE_EXCEEDED when
  // the deadline passed) with a QuorumNotReached detail when fewer than `w`
  // acknowledged (`attempted` true); FAILED_PRECONDITION with WrongNode when
  // a replica routes by a newer directory. When fewer than `w` replicas are
  // alive (DOWN by the master, or their channel just failed) the write is
  // refused before anything is stored or hinted: UNAVAILABLE, `attempted`
  // false.
  void Write(DirectoryPtr directory, uint32_t partition, std::string key,
             VersionedValue value, uint32_t w, absl::Time deadline,
             WriteDone done);

 private:
  struct Round;
  // Counts `node_id`'s answer to `round` and answers the caller once the
  // tally concludes.
  void OnReply(const std::shared_ptr<Round>& round, const std::string& node_id,
               const absl::StatusOr<ApplyResponse>& reply);

  ReplicaAccess* const replicas_;
  HybridClock* const clock_;
  HintWriter* const hints_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_QUORUM_WRITER_H_
