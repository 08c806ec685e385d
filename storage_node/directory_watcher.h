// Keeps a storage node's directory current between heartbeats: long-polls
// the master's WatchDirectory and installs each newer directory as soon as
// it is committed, so that the epoch changes of moves reach the node at
// once. Then `on_new_epoch` runs (the heartbeater reports the epoch: the
// master starts a stream only once every replica routes by its epoch).
//
// Runs on a thread of its own; every poll has a deadline, and Stop()
// cancels the one in flight. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_DIRECTORY_WATCHER_H_
#define QUORUMKV_STORAGE_NODE_DIRECTORY_WATCHER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "common/directory.h"
#include "common/grpc_util.h"
#include "storage_node/cluster_identity.h"
#include "grpcpp/client_context.h"
#include "common/master_set.h"
#include "proto/master.grpc.pb.h"

namespace quorumkv {

class DirectoryWatcher {
 public:
  // `masters` and `directory` must outlive the watcher. Any master serves
  // the long poll (standbys follow the directory too); one that does not
  // answer is left for the next.
  DirectoryWatcher(MasterSet* masters, DirectoryHolder* directory,
                   ClusterIdentity* cluster,
                   std::function<void()> on_new_epoch);
  ~DirectoryWatcher();  // Stop()s.

  void Start();
  void Stop();

 private:
  void Loop();

  MasterSet* const masters_;
  DirectoryHolder* const directory_;
  ClusterIdentity* const cluster_;
  const std::function<void()> on_new_epoch_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;

  std::thread thread_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_DIRECTORY_WATCHER_H_
