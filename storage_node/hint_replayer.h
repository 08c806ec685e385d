// Delivers stored hints (storage_node/hints.h) to their replicas once they
// answer again, oldest first, and forgets each hint the replica took. Runs
// on its own thread; calls are synchronous there and bounded by a deadline.
// A hint the target refuses because it no longer holds the partition (it
// left the partition in a move) is dropped.
#ifndef QUORUMKV_STORAGE_NODE_HINT_REPLAYER_H_
#define QUORUMKV_STORAGE_NODE_HINT_REPLAYER_H_

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

 private:
  absl::Duration ReplayAll();
  // Replays `target`'s hints until one fails or none are left.
  void ReplayTo(const DirectoryView& directory, const std::string& target);

  HintStore* const hints_;
  const DirectoryHolder* const directory_;
  PeerSet* const peers_;
  const absl::Duration interval_;
  PeriodicTask task_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_HINT_REPLAYER_H_
