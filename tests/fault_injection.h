// Faults injected at the per-peer seam of a storage node
// (storage_node/peer.h): a PeerProxy that wraps the real one and, as the
// test sets it, fails every call or every partition stream at once, as a
// peer that cannot be reached would.
#ifndef QUORUMKV_TESTS_FAULT_INJECTION_H_
#define QUORUMKV_TESTS_FAULT_INJECTION_H_

#include <atomic>
#include <memory>
#include <string>

#include "storage_node/peer.h"

namespace quorumkv {

// What to break; shared by every proxy of one node, changed at any time.
struct PeerFaults {
  std::atomic<bool> drop_writes{false};   // Apply fails UNAVAILABLE
  std::atomic<bool> drop_streams{false};  // StreamPartition is cancelled
};

class FaultyPeerProxy final : public PeerProxy {
 public:
  FaultyPeerProxy(std::unique_ptr<PeerProxy> real,
                  std::shared_ptr<PeerFaults> faults)
      : real_(std::move(real)), faults_(std::move(faults)) {}

  void Apply(const ApplyRequest& request, absl::Time deadline,
             Done<ApplyResponse> done) override {
    if (faults_->drop_writes) {
      done(absl::UnavailableError("dropped by the test"));
      return;
    }
    real_->Apply(request, deadline, std::move(done));
  }
  void Read(const ReadRequest& request, absl::Time deadline,
            Done<ReadResponse> done) override {
    real_->Read(request, deadline, std::move(done));
  }
  std::unique_ptr<grpc::ClientReaderInterface<PartitionChunk>> StreamPartition(
      grpc::ClientContext* context,
      const StreamPartitionRequest& request) override {
    // A cancelled call fails on its first read, like a broken connection.
    if (faults_->drop_streams) context->TryCancel();
    return real_->StreamPartition(context, request);
  }
  void ExpireOverdue(absl::Time now) override { real_->ExpireOverdue(now); }

 private:
  const std::unique_ptr<PeerProxy> real_;
  const std::shared_ptr<PeerFaults> faults_;
};

// Proxies for one node that all obey `faults`.
inline PeerProxyFactory FaultyPeers(std::shared_ptr<PeerFaults> faults) {
  PeerProxyFactory real = GrpcPeerProxyFactory();
  return [real, faults](const std::string& address) {
    return std::make_unique<FaultyPeerProxy>(real(address), faults);
  };
}

}  // namespace quorumkv

#endif  // QUORUMKV_TESTS_FAULT_INJECTION_H_
