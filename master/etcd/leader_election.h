// Elects one leader among the masters that share an etcd prefix, the way
// TiKV's PD does (docs/architecture.md, "Masters"): each master holds a
// lease of --master_lease and keeps it alive at a third of it; to lead, it
// creates the leader key bound to its lease in a transaction that succeeds
// only if the key is absent. The key's create revision is the leader's
// *term*; every change the leader makes checks it (EtcdStore), so a leader
// that lost its key changes nothing.
//
// A leader stops leading on its own clock before etcd could expire its
// key: it counts the lease from when the last successful renewal was
// *sent*, less a margin, so IsLeader() turns false before any other master
// can be elected. Standbys see the leader key go (their watch, or the
// check they make every quarter of a lease) and campaign at once.
//
// etcd's Election service is not used: its Campaign does not abort when
// the campaigner's lease expires, and Observe can report a stale leader.
//
// Thread-safe. Callbacks run on the election's thread, one at a time.
#ifndef QUORUMKV_MASTER_ETCD_LEADER_ELECTION_H_
#define QUORUMKV_MASTER_ETCD_LEADER_ELECTION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "master/etcd/etcd_client.h"
#include "master/leadership.h"

namespace quorumkv {

class LeaderElection final : public Leadership {
 public:
  struct Callbacks {
    // This master leads from now on, with `term`. Runs before IsLeader()
    // turns true: the master loads what it needs first (it must take well
    // under a third of the lease).
    std::function<absl::Status(uint64_t term)> elected;
    // This master no longer leads, and why.
    std::function<void(const std::string& why)> deposed;
  };

  // `etcd` must outlive the election. `leader_key` is the prefix's leader
  // key.
  LeaderElection(EtcdClient* etcd, std::string leader_key,
                 absl::Duration lease, Callbacks callbacks);
  ~LeaderElection() override;  // Stop()s.

  // Campaigns with `address` (this master's host:port, what the leader key
  // will hold) from now on.
  void Start(std::string address);
  // Resigns (the leader key goes with the lease) and stops.
  void Stop();
  // Campaigns now rather than at the next check (the leader key is gone).
  void Wake();

  bool IsLeader() const override;
  uint64_t term() const override;
  std::string leader() const override;
  // Why there is no leader, as this master sees it ("" when there is one).
  std::string problem() const override;
  std::string self() const override;

  // The lease of this master (0 until granted): keys of its own (the
  // master's presence) are bound to it.
  int64_t lease_id() const;

 private:
  void Loop();
  // One step: renew the lease, or grant one; campaign when there is no
  // leader; returns how long to wait before the next step.
  absl::Duration Step();
  absl::Duration Campaign();
  void StepDown(const std::string& why) ABSL_LOCKS_EXCLUDED(mu_);
  // When IsLeader() turns false: the lease counted from when the last
  // successful renewal was sent, less a margin for clock drift.
  absl::Time LeadUntil(absl::Time renewal_sent) const;

  EtcdClient* const etcd_;
  const std::string leader_key_;
  std::string address_;  // set by Start(), before the thread starts
  const absl::Duration lease_;
  const Callbacks callbacks_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  int64_t lease_id_ ABSL_GUARDED_BY(mu_) = 0;
  // Until when this master may act as leader; InfinitePast when it does
  // not lead.
  absl::Time lead_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // When the lease was last renewed (or granted), as sent.
  absl::Time lease_renewed_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t term_ ABSL_GUARDED_BY(mu_) = 0;  // the leader's, as last seen
  std::string leader_ ABSL_GUARDED_BY(mu_);  // its address; "" none
  std::string problem_ ABSL_GUARDED_BY(mu_) = "no leader elected yet";
  std::string self_ ABSL_GUARDED_BY(mu_);  // address_, for other threads

  std::thread thread_;  // Last: started by Start().
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_ETCD_LEADER_ELECTION_H_
