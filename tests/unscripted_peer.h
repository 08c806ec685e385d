// Peers played by tests at the per-peer seam (storage_node/peer.h): a base
// whose every call answers UNIMPLEMENTED, so that a test peer scripts only
// the calls it plays, and the calls such a peer holds back as a paused
// process would, failed at their deadline.
#ifndef QUORUMKV_TESTS_UNSCRIPTED_PEER_H_
#define QUORUMKV_TESTS_UNSCRIPTED_PEER_H_

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage_node/peer.h"

namespace quorumkv {

class UnscriptedPeer : public PeerProxy {
 public:
  void Apply(const ApplyRequest&, absl::Time, Done<ApplyResponse> done) override {
    done(Unscripted());
  }
  void Read(const ReadRequest&, absl::Time, Done<ReadResponse> done) override {
    done(Unscripted());
  }
  void Tree(const TreeRequest&, absl::Time, Done<TreeResponse> done) override {
    done(Unscripted());
  }
  void Rows(const RowsRequest&, absl::Time, Done<RowsResponse> done) override {
    done(Unscripted());
  }
  void Range(const RangeRequest&, absl::Time,
             Done<RangeResponse> done) override {
    done(Unscripted());
  }
  void Paxos(const PaxosRequest&, absl::Time,
             Done<PaxosResponse> done) override {
    done(Unscripted());
  }
  std::unique_ptr<grpc::ClientReaderInterface<PartitionChunk>> StreamPartition(
      grpc::ClientContext*, const StreamPartitionRequest&) override {
    return nullptr;
  }

 private:
  static absl::Status Unscripted() {
    return absl::UnimplementedError("not scripted");
  }
};

// Calls held until their deadline. Thread-safe.
class StalledCalls {
 public:
  // Keeps `done` until `deadline` (or Release()).
  template <typename Response>
  void Hold(absl::Time deadline, PeerProxy::Done<Response> done) {
    absl::MutexLock lock(&mu_);
    held_.emplace_back(deadline,
                       [done = std::move(done)](absl::Status s) { done(s); });
  }
  // Fails the calls whose deadline is at or before `now` (DEADLINE_EXCEEDED).
  void ExpireOverdue(absl::Time now) {
    std::vector<std::function<void(absl::Status)>> overdue;
    {
      absl::MutexLock lock(&mu_);
      for (auto it = held_.begin(); it != held_.end();) {
        if (it->first <= now) {
          overdue.push_back(std::move(it->second));
          it = held_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& fail : overdue) fail(absl::DeadlineExceededError("stalled"));
  }
  // Fails every held call now (CANCELLED).
  void Release() {
    std::vector<std::pair<absl::Time, std::function<void(absl::Status)>>> held;
    {
      absl::MutexLock lock(&mu_);
      held.swap(held_);
    }
    for (auto& [deadline, fail] : held) fail(absl::CancelledError("released"));
  }

 private:
  absl::Mutex mu_;
  std::vector<std::pair<absl::Time, std::function<void(absl::Status)>>> held_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_TESTS_UNSCRIPTED_PEER_H_
