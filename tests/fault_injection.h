// Faults injected at the per-peer seam of a storage node
// (storage_node/peer.h): a PeerProxy that wraps the real one and, as the
// test sets it, fails every call or every partition stream at once, as a
// peer that cannot be reached would.
#ifndef QUORUMKV_TESTS_FAULT_INJECTION_H_
#define QUORUMKV_TESTS_FAULT_INJECTION_H_

#include <atomic>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "storage_node/peer.h"

namespace quorumkv {

// What to break; shared by every proxy of one node, changed at any time.
struct PeerFaults {
  std::atomic<bool> drop_writes{false};   // Apply fails UNAVAILABLE
  std::atomic<bool> drop_streams{false};  // StreamPartition is cancelled
  // Reads sent to this address get no answer until their deadline, as from
  // a paused (SIGSTOPped) process.
  absl::Mutex mu;
  std::string stall_reads_to ABSL_GUARDED_BY(mu);
  std::string stall_writes_to ABSL_GUARDED_BY(mu);  // likewise for Apply
};

class FaultyPeerProxy final : public PeerProxy {
 public:
  FaultyPeerProxy(std::string address, std::unique_ptr<PeerProxy> real,
                  std::shared_ptr<PeerFaults> faults)
      : address_(std::move(address)),
        real_(std::move(real)),
        faults_(std::move(faults)) {}

  void Apply(const ApplyRequest& request, absl::Time deadline,
             Done<ApplyResponse> done) override {
    if (faults_->drop_writes) {
      done(absl::UnavailableError("dropped by the test"));
      return;
    }
    if (Stall(&PeerFaults::stall_writes_to, deadline, done)) return;
    real_->Apply(request, deadline, std::move(done));
  }
  void Read(const ReadRequest& request, absl::Time deadline,
            Done<ReadResponse> done) override {
    if (Stall(&PeerFaults::stall_reads_to, deadline, done)) return;
    real_->Read(request, deadline, std::move(done));
  }
  void Tree(const TreeRequest& request, absl::Time deadline,
            Done<TreeResponse> done) override {
    real_->Tree(request, deadline, std::move(done));
  }
  void Rows(const RowsRequest& request, absl::Time deadline,
            Done<RowsResponse> done) override {
    real_->Rows(request, deadline, std::move(done));
  }
  void Range(const RangeRequest& request, absl::Time deadline,
             Done<RangeResponse> done) override {
    if (Stall(&PeerFaults::stall_reads_to, deadline, done)) return;
    real_->Range(request, deadline, std::move(done));
  }
  // Paxos steps are writes to the peer's state: dropped and stalled as
  // writes are.
  void Paxos(const PaxosRequest& request, absl::Time deadline,
             Done<PaxosResponse> done) override {
    if (faults_->drop_writes) {
      done(absl::UnavailableError("dropped by the test"));
      return;
    }
    if (Stall(&PeerFaults::stall_writes_to, deadline, done)) return;
    real_->Paxos(request, deadline, std::move(done));
  }
  std::unique_ptr<grpc::ClientReaderInterface<PartitionChunk>> StreamPartition(
      grpc::ClientContext* context,
      const StreamPartitionRequest& request) override {
    // A cancelled call fails on its first read, like a broken connection.
    if (faults_->drop_streams) context->TryCancel();
    return real_->StreamPartition(context, request);
  }
  bool Reachable() override { return real_->Reachable(); }
  void Shutdown(bool unreachable_only) override {
    real_->Shutdown(unreachable_only);
  }
  void ExpireOverdue(absl::Time now) override {
    std::vector<std::function<void(absl::Status)>> overdue;
    {
      absl::MutexLock lock(&mu_);
      for (auto it = stalled_.begin(); it != stalled_.end();) {
        bool still;
        {
          absl::MutexLock faults_lock(&faults_->mu);
          still = (*faults_).*(it->target) == address_;
        }
        // Answered at its deadline, or at once when the test lifts the
        // fault (as from a process resumed).
        if (it->deadline > now && still) {
          ++it;
          continue;
        }
        overdue.push_back(std::move(it->fail));
        it = stalled_.erase(it);
      }
    }
    for (auto& done : overdue) {
      done(absl::DeadlineExceededError("stalled by the test"));
    }
    real_->ExpireOverdue(now);
  }

 private:
  // Keeps the call unanswered until its deadline when `target` names this
  // peer.
  template <typename Response>
  bool Stall(std::string PeerFaults::*target, absl::Time deadline,
             Done<Response>& done) {
    {
      absl::MutexLock lock(&faults_->mu);
      if ((*faults_).*target != address_) return false;
    }
    absl::MutexLock lock(&mu_);
    stalled_.push_back({target, deadline, [done = std::move(done)](
                                              absl::Status s) { done(s); }});
    return true;
  }

  struct Stalled {
    std::string PeerFaults::*target;
    absl::Time deadline;
    std::function<void(absl::Status)> fail;
  };

  const std::string address_;
  const std::unique_ptr<PeerProxy> real_;
  const std::shared_ptr<PeerFaults> faults_;
  absl::Mutex mu_;
  std::list<Stalled> stalled_ ABSL_GUARDED_BY(mu_);
};

// Proxies for one node that all obey `faults`.
inline PeerProxyFactory FaultyPeers(std::shared_ptr<PeerFaults> faults) {
  PeerProxyFactory real = GrpcPeerProxyFactory();
  return [real, faults](const std::string& address) {
    return std::make_unique<FaultyPeerProxy>(address, real(address), faults);
  };
}

}  // namespace quorumkv

#endif  // QUORUMKV_TESTS_FAULT_INJECTION_H_
