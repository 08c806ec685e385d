// Quorum writes and reads for the partitions this node holds.
//
// The node's KvService hands each client request it accepts to the
// Coordinator. A write is stamped with the node's HLC, applied locally and
// sent to the other replicas in parallel; it is answered after W
// acknowledgements and keeps being delivered to the rest, with a durable hint
// for every replica that fails; the local writes of the requests that arrive
// in one message are stored with one RocksDB write. A read asks R replicas
// (this node first), repairs the contacted replicas that are behind, and
// only then answers.
//
// Nothing here blocks on the network: replica calls use gRPC's callback API
// and `done` runs on whichever thread completes the quorum. Local RocksDB
// access happens inline. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_COORDINATOR_H_
#define QUORUMKV_STORAGE_NODE_COORDINATOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "common/hlc.h"
#include "common/timer_queue.h"
#include "proto/replica.grpc.pb.h"
#include "storage_node/down_nodes.h"
#include "storage_node/engine.h"
#include "storage_node/hint_writer.h"
#include "storage_node/peer.h"
#include "storage_node/speculative_retry.h"

namespace quorumkv {

struct WriteOutcome {
  Version version;
  uint32_t acks = 0;
  // An acknowledging replica held a value (not a tombstone) before.
  bool existed = false;
};

class Coordinator {
 public:
  using WriteDone = std::function<void(absl::StatusOr<WriteOutcome>)>;
  // The newest version among the replicas read; it may be a tombstone.
  // NOT_FOUND when none of them has ever seen the key.
  using ReadDone = std::function<void(absl::StatusOr<VersionedValue>)>;

  // All pointers must outlive the coordinator and every call still in
  // flight (the server shuts down before they are destroyed); `down` may be
  // null (no master's view: benchmarks).
  Coordinator(std::string self_id, Engine* engine, HybridClock* clock,
              PeerSet* peers, const DownNodes* down, HintWriter* hints);

  // Writes `value` (its version is stamped here) to the replicas of
  // `partition` in `directory`, which must include this node. `done` runs
  // once: OK after `w` acknowledgements; UNAVAILABLE (DEADLINE_EXCEEDED when
  // the deadline passed) with a QuorumNotReached detail when fewer than `w`
  // acknowledged (`attempted` true). When fewer than `w` replicas are alive
  // (DOWN by the master, or their channel just failed) the write is refused
  // before anything is stored or hinted: UNAVAILABLE, `attempted` false.
  void Write(DirectoryPtr directory, uint32_t partition, std::string key,
             VersionedValue value, uint32_t w, absl::Time deadline,
             WriteDone done);

  // Reads from `r` replicas of `partition` (this node first, then live
  // ones) and repairs those behind before calling `done`. When the first
  // ones take longer than SpeculativeRetry's threshold, asks one more.
  void Read(DirectoryPtr directory, uint32_t partition, std::string key,
            uint32_t r, absl::Time deadline, ReadDone done);

  // The version of `key` this node stores (tombstones included), without
  // asking anyone else; NOT_FOUND when it has none.
  absl::StatusOr<VersionedValue> ReadLocal(uint32_t partition,
                                           absl::string_view key) const {
    return engine_->Read(partition, key);
  }

  // Sends `request` to `node_id` (applying it locally when it is this node)
  // and calls `done` with the outcome. Used for writes and repairs.
  void Deliver(const DirectoryView& directory, const std::string& node_id,
               const ApplyRequest& request, absl::Time deadline,
               std::function<void(absl::StatusOr<ApplyResponse>)> done);

  const std::string& self_id() const { return self_id_; }
  // Replicas found behind by a read and sent the newest version, since
  // start.
  uint64_t read_repairs() const { return read_repairs_.load(); }

  // Blocks until no call to another replica is in flight (each has a
  // deadline). Called at shutdown, once no new request can arrive.
  void WaitIdle();

 private:
  struct WriteState;
  std::atomic<uint64_t> read_repairs_{0};
  struct ReadState;

  // Stores `row` in this node's engine and calls `done` with the outcome.
  // Under a BatchCork (the requests of one client message) the rows wait and
  // are stored together when the cork ends, in one engine call.
  void ApplyLocally(RowWrite row,
                    std::function<void(absl::StatusOr<ApplyResponse>)> done);
  void FlushLocalWrites();

  // The peer object of `node_id`; nullptr when the directory does not
  // know the node.
  Peer* PeerOf(const DirectoryView& directory, const std::string& node_id);
  // Whether `node_id` can be expected to answer now: this node, or a peer
  // neither DOWN by the master nor just failed on its channel.
  bool Alive(const DirectoryView& directory, const std::string& node_id);
  // Asks the next replica of a read whose first ones are slow, and
  // schedules the next check.
  void Speculate(const std::shared_ptr<ReadState>& state);
  void SpeculateLater(const std::shared_ptr<ReadState>& state);
  void FetchFrom(const DirectoryView& directory, const std::string& node_id,
                 const ReadRequest& request, absl::Time deadline,
                 std::function<void(absl::StatusOr<ReadResponse>)> done);
  void LaunchRead(const std::shared_ptr<ReadState>& state,
                  const std::string& node_id);
  void OnReadReply(const std::shared_ptr<ReadState>& state,
                   const std::string& node_id,
                   absl::StatusOr<ReadResponse> reply);
  void Repair(const std::shared_ptr<ReadState>& state);

  // Constant after construction.
  const std::string self_id_;
  Engine* const engine_;
  HybridClock* const clock_;
  PeerSet* const peers_;
  const DownNodes* const down_;
  HintWriter* const hints_;
  SpeculativeRetry speculative_retry_;
  // Null once WaitIdle() has begun. Last: its callbacks use the members
  // above.
  absl::Mutex timers_mu_;
  std::unique_ptr<TimerQueue> timers_ ABSL_GUARDED_BY(timers_mu_) =
      std::make_unique<TimerQueue>();
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_COORDINATOR_H_
