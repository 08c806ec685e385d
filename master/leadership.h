// Whether this master leads the cluster, and who does. Only the leader
// changes the directory, takes registrations and heartbeats, and drives
// moves and anti-entropy; standbys follow the directory and serve what
// reads it (docs/architecture.md, "Masters").
//
// A single master with its directory in its data dir (the embedded
// default) always leads, with term 0. Masters on etcd elect a leader
// (master/etcd/leader_election.h); its term is the create revision of its
// leader key, and every change it makes is fenced by it.
//
// Thread-safe; cheap enough to ask on every request.
#ifndef QUORUMKV_MASTER_LEADERSHIP_H_
#define QUORUMKV_MASTER_LEADERSHIP_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace quorumkv {

class Leadership {
 public:
  virtual ~Leadership() = default;
  // True while this master may change the directory and drive nodes.
  virtual bool IsLeader() const = 0;
  // The leader's term as last seen (this master's own while it leads); 0
  // for the embedded master.
  virtual uint64_t term() const = 0;
  // host:port of the leader as last seen; "" while none is known.
  virtual std::string leader() const = 0;
  // Why there is no leader ("" when there is one), for `status`.
  virtual std::string problem() const = 0;
  // This master's host:port, as the leader key holds it ("" until it
  // serves).
  virtual std::string self() const = 0;
};

// The embedded master: leads from the start, for good.
class SoleMaster final : public Leadership {
 public:
  // Once the master serves.
  void SetAddress(std::string address) {
    absl::MutexLock lock(&mu_);
    address_ = std::move(address);
  }
  bool IsLeader() const override { return true; }
  uint64_t term() const override { return 0; }
  std::string leader() const override { return self(); }
  std::string problem() const override { return ""; }
  std::string self() const override {
    absl::MutexLock lock(&mu_);
    return address_;
  }

 private:
  mutable absl::Mutex mu_;
  std::string address_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_LEADERSHIP_H_
