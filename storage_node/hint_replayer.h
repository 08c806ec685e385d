// Delivers stored hints (storage_node/hints.h) to their replicas once they
// answer again, oldest first, in batches sent together through the per-peer
// object (so they share its stream's messages), and forgets each hint the
// replica took. Runs on its own thread; each batch waits for its answers,
// bounded by a deadline.
//
// Hints that cannot help any more are dropped and counted: older than the
// hint window, for a partition the target no longer holds (it left the
// partition in a move; its new holders got the row by stream), or refused
// by the target for another reason than being unreachable (a later hint
// must not wait behind one that will never be taken).
#ifndef QUORUMKV_STORAGE_NODE_HINT_REPLAYER_H_
#define QUORUMKV_STORAGE_NODE_HINT_REPLAYER_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "common/directory.h"
#include "common/periodic_task.h"
#include "storage_node/hints.h"
#include "storage_node/peer.h"

namespace quorumkv {

class HintReplayer {
 public:
  // Pointers must outlive the replayer.
  HintReplayer(HintStore* hints, const DirectoryHolder* directory,
               PeerSet* peers, absl::Duration interval);
  ~HintReplayer();

  void Start();
  void Stop();

  uint64_t replayed() const { return replayed_.load(); }
  // Refused by their target (and dropped).
  uint64_t refused() const { return refused_.load(); }

 private:
  absl::Duration ReplayAll();
  // Replays `target`'s hints until the target fails to answer or none are
  // left.
  void ReplayTo(const DirectoryView& directory, const std::string& target);

  HintStore* const hints_;
  const DirectoryHolder* const directory_;
  PeerSet* const peers_;
  const absl::Duration interval_;
  std::atomic<uint64_t> replayed_{0};
  std::atomic<uint64_t> refused_{0};
  PeriodicTask task_;  // Last: stopped before the rest is destroyed.
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_HINT_REPLAYER_H_
