// The destination side of moves (docs/moves.md): copies in the partitions the
// master asks this node to join, from the sources the master names, and
// reports progress with every heartbeat until the master makes the node a
// full replica (or cancels the move).
//
// Each stream runs on a thread of its own: it waits until this node routes
// by the move's epoch, reads each source's rows (a snapshot, in chunks),
// applies them by version (the highest wins, so a streamed row never
// overwrites a newer direct write) and paces itself to the move's rate. A
// broken stream resumes after the last key it applied, from the same
// source or, when the master names other sources, from those.
//
// Thread-safe. Stop() cancels and joins every stream.
#ifndef QUORUMKV_STORAGE_NODE_PARTITION_RECEIVER_H_
#define QUORUMKV_STORAGE_NODE_PARTITION_RECEIVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/directory.h"
#include "common/hlc.h"
#include "proto/master.pb.h"
#include "storage_node/engine.h"
#include "storage_node/peer.h"

namespace quorumkv {

class PartitionReceiver {
 public:
  // Pointers must outlive the receiver. `on_complete` runs (on a stream's
  // thread) when a stream has copied everything, so that the heartbeat
  // reports it without waiting for its interval.
  PartitionReceiver(std::string self_id, Engine* engine, HybridClock* clock,
                    const DirectoryHolder* directory, PeerSet* peers,
                    std::function<void()> on_complete);
  ~PartitionReceiver();  // Stop()s.

  // The master's list of streams for this node, from a heartbeat answer:
  // starts those not running, updates the sources of those running, and
  // stops those not listed (cancelled moves).
  void SetTasks(const std::vector<StreamTask>& tasks);
  // The progress of every stream, for the next heartbeat.
  std::vector<StreamProgress> Progress() const;
  // Partitions copied in completely, and bytes copied in, since start.
  uint64_t partitions_received() const { return partitions_received_.load(); }
  uint64_t bytes_received() const { return bytes_received_.load(); }
  void Stop();

 private:
  struct Stream;
  std::atomic<uint64_t> partitions_received_{0};
  std::atomic<uint64_t> bytes_received_{0};
  using StreamKey = std::pair<uint32_t, uint64_t>;  // partition, move epoch

  void Run(Stream* stream);
  // Copies one source's rows; OK once they are all applied.
  absl::Status CopyFrom(Stream* stream, const NodeDescriptor& source);
  // Sleeps `duration` unless the stream is cancelled first; false if it was.
  bool Pause(Stream* stream, absl::Duration duration);

  // Constant after construction.
  const std::string self_id_;
  Engine* const engine_;
  HybridClock* const clock_;
  const DirectoryHolder* const directory_;
  PeerSet* const peers_;
  const std::function<void()> on_complete_;

  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::map<StreamKey, std::unique_ptr<Stream>> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_PARTITION_RECEIVER_H_
