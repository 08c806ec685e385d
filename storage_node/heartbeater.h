// Keeps a storage node known to the master: registers (retrying with
// backoff while the master is unreachable), heartbeats with the node's load
// every interval, and fetches the directory whenever the master's epoch is
// ahead or the node asks for it. Given several masters, it registers and
// heartbeats with the leader (a standby names it) and goes on to the next
// when one does not answer. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_HEARTBEATER_H_
#define QUORUMKV_STORAGE_NODE_HEARTBEATER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "common/grpc_util.h"
#include "common/master_set.h"
#include "common/periodic_task.h"
#include "storage_node/cluster_identity.h"
#include "storage_node/down_nodes.h"
#include "proto/master.grpc.pb.h"

namespace quorumkv {

class Heartbeater {
 public:
  using LoadFn = std::function<NodeLoad()>;
  // Called once, from the heartbeater's thread, when the master refuses the
  // node for good (another live node holds its id, or the node came back
  // in another rack than the one its partitions are placed by, or its data
  // dir belongs to another cluster).
  using FatalFn = std::function<void(absl::Status)>;
  // What the node's other parts add to each heartbeat (stream progress,
  // the last anti-entropy pass) and take from each answer (stream tasks,
  // the anti-entropy task, repaired partitions). Run on the heartbeater's
  // thread.
  struct Hooks {
    std::function<void(HeartbeatRequest*)> fill;
    std::function<void(const HeartbeatResponse&)> answered;
    // The master did not take `request` (what `fill` put in it is to be
    // sent again).
    std::function<void(const HeartbeatRequest& request)> unanswered;
  };


  // `directory`, `cluster` and `down` must outlive the heartbeater; every
  // directory is installed through `cluster`; `down` gets the master's
  // DOWN nodes from every heartbeat answer.
  // `masters` must outlive the heartbeater.
  Heartbeater(NodeDescriptor self, uint64_t capacity_bytes,
              MasterSet* masters, absl::Duration interval,
              DirectoryHolder* directory, ClusterIdentity* cluster,
              DownNodes* down, LoadFn load, FatalFn on_fatal, Hooks hooks);
  ~Heartbeater();

  void Start();
  void Stop();
  // Fetches the directory soon, without blocking the caller.
  void RequestRefresh();
  // Heartbeats now (a stream completed), without blocking the caller.
  void Wake();
  // Whether the master has accepted the node's registration.
  bool registered() const;

 private:
  absl::Duration RunOnce();
  absl::Status Register();
  absl::Status Heartbeat(HeartbeatRequest* request, HeartbeatResponse* response);
  // Installs a directory from the master through cluster_.
  absl::Status InstallDirectory(const Directory& directory);
  // Stops for good: logs `status`, reports it through on_fatal_.
  absl::Duration Fail(absl::Status status);
  absl::Status FetchDirectory();

  // Constant after construction.
  const NodeDescriptor self_;
  const uint64_t capacity_bytes_;
  MasterSet* const masters_;
  const absl::Duration interval_;
  DirectoryHolder* const directory_;
  ClusterIdentity* const cluster_;
  DownNodes* const down_;
  const LoadFn load_;
  const FatalFn on_fatal_;
  const Hooks hooks_;

  // Touched by the task's thread only.
  absl::Duration backoff_;
  bool master_reachable_ = true;
  bool fatal_ = false;

  mutable absl::Mutex mu_;
  bool registered_ ABSL_GUARDED_BY(mu_) = false;
  bool refresh_requested_ ABSL_GUARDED_BY(mu_) = false;

  PeriodicTask task_;  // Last: stopped before the rest is destroyed.
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_HEARTBEATER_H_
