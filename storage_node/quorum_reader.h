// The coordinator's read path: asks R replicas of a partition this node
// holds (this node first, then live ones, then the others), asks one more
// when the first take longer than the recent replica reads' 99th
// percentile (SpeculativeRetry), and once R answered (quorum_tally.h
// decides) repairs the replicas that answered an older version or none
// (read repair) before answering with the newest.
//
// Nothing blocks: `done` runs once, on the thread that completes the read
// or its repair. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_QUORUM_READER_H_
#define QUORUMKV_STORAGE_NODE_QUORUM_READER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "common/hlc.h"
#include "common/timer_queue.h"
#include "storage_node/replica_access.h"
#include "storage_node/speculative_retry.h"

namespace quorumkv {

class QuorumReader {
 public:
  // The newest version among the replicas read; it may be a tombstone.
  // NOT_FOUND when none of them has ever seen the key.
  using ReadDone = std::function<void(absl::StatusOr<VersionedValue>)>;

  // Pointers must outlive the reader and every read in flight.
  QuorumReader(ReplicaAccess* replicas, HybridClock* clock);

  // Reads from `r` replicas of `partition` and repairs those behind before
  // calling `done`: UNAVAILABLE (DEADLINE_EXCEEDED when the deadline
  // passed) with QuorumNotReached when fewer than `r` answered or a repair
  // failed.
  void Read(DirectoryPtr directory, uint32_t partition, std::string key,
            uint32_t r, absl::Time deadline, ReadDone done);

  // Replicas found behind by a read and sent the newest version, since
  // start.
  uint64_t read_repairs() const { return read_repairs_.load(); }

  // Stops asking further replicas: speculative retries still queued launch
  // nothing. Called at shutdown, before waiting for the calls in flight.
  void StopSpeculating();

 private:
  struct Round;
  // Asks the next replica of a read whose first ones are slow, and
  // schedules the next check.
  void Speculate(const std::shared_ptr<Round>& round);
  void SpeculateLater(const std::shared_ptr<Round>& round);
  void Ask(const std::shared_ptr<Round>& round, const std::string& node_id);
  void OnReply(const std::shared_ptr<Round>& round, const std::string& node_id,
               absl::StatusOr<ReadResponse> reply);
  void Repair(const std::shared_ptr<Round>& round);

  ReplicaAccess* const replicas_;
  HybridClock* const clock_;
  SpeculativeRetry speculative_retry_;
  std::atomic<uint64_t> read_repairs_{0};
  // Null once StopSpeculating() has begun. Last: its callbacks use the
  // members above.
  absl::Mutex timers_mu_;
  std::unique_ptr<TimerQueue> timers_ ABSL_GUARDED_BY(timers_mu_) =
      std::make_unique<TimerQueue>();
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_QUORUM_READER_H_
