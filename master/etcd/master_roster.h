// Which masters share the etcd prefix, for the status page and `kvcli
// masters`' operators (docs/operations.md, "Masters on etcd"): each master
// keeps PREFIX/masters/HOST:PORT bound to its election lease, so the key
// goes when the master dies or is cut off for a lease; and reads the
// others' keys every few seconds.
//
// Thread-safe; runs on a thread of its own.
#ifndef QUORUMKV_MASTER_ETCD_MASTER_ROSTER_H_
#define QUORUMKV_MASTER_ETCD_MASTER_ROSTER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/periodic_task.h"
#include "master/etcd/etcd_client.h"
#include "master/etcd/leader_election.h"

namespace quorumkv {

class MasterRoster {
 public:
  // `etcd` and `election` must outlive the roster; `prefix` is
  // --etcd_prefix.
  MasterRoster(EtcdClient* etcd, std::string prefix,
               const LeaderElection* election);
  ~MasterRoster();  // Stop()s.

  void Start();
  void Stop();

  // The masters that held a lease when last read (this one included once
  // it has one), sorted; empty before the first read.
  std::vector<std::string> Masters() const;

 private:
  // Puts this master's key under its current lease when that changed, then
  // reads every master's.
  absl::Duration Refresh();

  EtcdClient* const etcd_;
  const std::string prefix_;  // PREFIX/masters/
  const LeaderElection* const election_;
  int64_t registered_lease_ = 0;  // Refresh() only

  mutable absl::Mutex mu_;
  std::vector<std::string> masters_ ABSL_GUARDED_BY(mu_);

  PeriodicTask refresh_;  // Last: runs Refresh() until destroyed.
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_ETCD_MASTER_ROSTER_H_
