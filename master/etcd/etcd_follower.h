// Keeps a master in step with etcd (docs/architecture.md, "Masters"): one
// watch on the prefix feeds it the directory the leader commits (a standby
// installs each newer epoch and answers directory look-ups, long polls and
// the relay from it), the node states the leader publishes (a standby
// routes the relay by them), and the leader key (when it goes, the
// election campaigns at once rather than at its next check).
//
// Because a watch can sit on an etcd member cut off from its quorum and see
// nothing, the follower also reads the directory key every few seconds and
// installs what it missed. Thread-safe; runs on threads of its own.
#ifndef QUORUMKV_MASTER_ETCD_ETCD_FOLLOWER_H_
#define QUORUMKV_MASTER_ETCD_ETCD_FOLLOWER_H_

#include <atomic>
#include <memory>
#include <vector>

#include "common/periodic_task.h"
#include "master/directory_manager.h"
#include "master/etcd/etcd_client.h"
#include "master/etcd/etcd_store.h"
#include "master/etcd/leader_election.h"
#include "master/membership.h"

namespace quorumkv {

class EtcdFollower {
 public:
  // Pointers must outlive the follower.
  EtcdFollower(EtcdClient* etcd, const EtcdStore* store,
               DirectoryManager* directory, Membership* membership,
               LeaderElection* election);
  ~EtcdFollower();  // Stop()s.

  void Start();
  void Stop();

 private:
  void OnEvents(const std::vector<etcdserverpb::Event>& events, bool reset);
  void FollowDirectory(absl::string_view value);
  // The periodic read: installs a directory the watch did not bring.
  absl::Duration CatchUp();

  EtcdClient* const etcd_;
  const EtcdStore* const store_;
  DirectoryManager* const directory_;
  Membership* const membership_;
  LeaderElection* const election_;

  // The etcd revision of the last directory followed.
  std::atomic<int64_t> followed_revision_{0};
  std::unique_ptr<EtcdClient::Watcher> watcher_;
  PeriodicTask catch_up_;  // Last: stopped first.
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_ETCD_ETCD_FOLLOWER_H_
