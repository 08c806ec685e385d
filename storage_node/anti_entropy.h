// Anti-entropy (docs/failures.md): this node compares its rows of a partition with
// the other full replicas' and exchanges only the rows that differ, so that
// replicas converge without any read touching the keys: after writes missed
// beyond the hint window, lost hints, or a wiped disk.
//
// The master hands one partition at a time to one of its replicas (oldest
// comparison first; master/anti_entropy_scheduler.h) in heartbeat answers.
// A pass, run on this object's thread through the per-peer objects:
//   1. for each other full replica, in turn: build this node's hash tree
//      (storage_node/merkle_tree.h), fetch the peer's, and for the leaves
//      that differ fetch the peer's rows (stored here by the usual rule:
//      the highest version wins) and send the peer this node's rows that
//      its answer lacked or held older;
//   2. go round the replicas once more but the last, so that each also gets
//      what the later ones held.
// Steps are paced at the task's rate. A pass in which every step succeeded
// is complete: every replica then holds every row written before it began,
// which lets tombstones older than that be purged (Engine::
// SetRepairedBefore). The last pass is reported with every heartbeat.
//
// The other side, answering a peer's tree and rows requests, also runs on a
// thread of this object: a scan must not hold a gRPC thread. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_ANTI_ENTROPY_H_
#define QUORUMKV_STORAGE_NODE_ANTI_ENTROPY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "common/periodic_task.h"
#include "common/timer_queue.h"
#include "proto/master.pb.h"
#include "proto/replica.pb.h"
#include "storage_node/engine.h"
#include "storage_node/merkle_tree.h"
#include "storage_node/peer.h"

namespace quorumkv {

class AntiEntropy {
 public:
  // Pointers must outlive the object. `on_pass_done` runs on the object's
  // thread after each pass (the node sends a heartbeat at once).
  AntiEntropy(std::string self_id, Engine* engine,
              const DirectoryHolder* directory, PeerSet* peers,
              std::function<void()> on_pass_done = nullptr);
  ~AntiEntropy();

  void Start();
  // Ends the running pass and waits for the requests being served; later
  // ones are refused. Call before the server shuts down: a reply sent after
  // its stream is gone would reach freed memory.
  void Stop();

  // From a heartbeat answer: the partition to compare next. Ignored while a
  // pass runs.
  void SetTask(const AntiEntropyTask& task);
  // The last pass (started_ms 0 before the first one ends).
  AntiEntropyReport LastReport() const;
  // Rows fetched from and sent to peers by every pass since start.
  uint64_t rows_exchanged() const { return rows_exchanged_.load(); }

  // Answers a peer's TreeRequest or RowsRequest (in `request`) on this
  // object's serving thread; `reply` runs there, once.
  void Serve(const PeerRequest& request, std::function<void(PeerReply)> reply);

 private:
  struct Pass {
    AntiEntropyTask task;
    absl::Time started;
    std::vector<std::string> order;  // peers to compare, in turn
    size_t next = 0;
    bool complete = true;
    uint64_t rows_exchanged = 0;
    uint64_t bytes_exchanged = 0;
    uint64_t leaves_differing = 0;
  };

  absl::Duration RunOnce();
  // Compares with one peer and repairs both sides; returns the bytes read
  // and sent (for pacing).
  absl::StatusOr<uint64_t> CompareWith(Pass& pass, const std::string& peer_id);
  absl::StatusOr<MerkleTree> LocalTree(uint32_t partition) const;

  const std::string self_id_;
  Engine* const engine_;
  std::atomic<uint64_t> rows_exchanged_{0};
  const DirectoryHolder* const directory_;
  PeerSet* const peers_;
  const std::function<void()> on_pass_done_;

  mutable absl::Mutex mu_;
  std::optional<AntiEntropyTask> next_task_ ABSL_GUARDED_BY(mu_);
  AntiEntropyReport last_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int serving_ ABSL_GUARDED_BY(mu_) = 0;  // Serve() jobs not answered yet

  std::optional<Pass> pass_;  // the runner thread's
  uint64_t passes_ = 0;       // the runner thread's
  TimerQueue server_;         // runs Serve() jobs, one at a time
  PeriodicTask runner_;       // Last: stopped before the rest is destroyed.
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_ANTI_ENTROPY_H_
