#include "storage_node/peer.h"

#include <atomic>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/grpc_util.h"
#include "common/rpc_status.h"
#include "storage_node/peer_stream.h"

namespace quorumkv {
namespace {

class GrpcPeerProxy final : public PeerProxy {
 public:
  GrpcPeerProxy(const std::string& address, const ChannelSecurity& security)
      : channel_(MakeChannel(address, security)),
        stub_(ReplicaService::NewStub(channel_)),
        stream_(ConnectPeerStream(address, channel_)) {}

  void Apply(const ApplyRequest& request, absl::Time deadline,
             Done<ApplyResponse> done) override {
    Forward(&PeerRequest::mutable_apply, &PeerReply::mutable_apply, request,
            deadline, std::move(done));
  }
  void Read(const ReadRequest& request, absl::Time deadline,
            Done<ReadResponse> done) override {
    Forward(&PeerRequest::mutable_read, &PeerReply::mutable_read, request,
            deadline, std::move(done));
  }
  void Tree(const TreeRequest& request, absl::Time deadline,
            Done<TreeResponse> done) override {
    Forward(&PeerRequest::mutable_tree, &PeerReply::mutable_tree, request,
            deadline, std::move(done));
  }
  void Rows(const RowsRequest& request, absl::Time deadline,
            Done<RowsResponse> done) override {
    Forward(&PeerRequest::mutable_rows, &PeerReply::mutable_rows, request,
            deadline, std::move(done));
  }
  void Range(const RangeRequest& request, absl::Time deadline,
             Done<RangeResponse> done) override {
    Forward(&PeerRequest::mutable_range, &PeerReply::mutable_range, request,
            deadline, std::move(done));
  }
  void Paxos(const PaxosRequest& request, absl::Time deadline,
             Done<PaxosResponse> done) override {
    Forward(&PeerRequest::mutable_paxos, &PeerReply::mutable_paxos, request,
            deadline, std::move(done));
  }
  std::unique_ptr<grpc::ClientReaderInterface<PartitionChunk>> StreamPartition(
      grpc::ClientContext* context,
      const StreamPartitionRequest& request) override {
    return stub_->StreamPartition(context, request);
  }
  void ExpireOverdue(absl::Time now) override {
    stream_->ExpireOverdue(now);
    // Sampled as often as deadlines are enforced: a failed connection
    // attempt is followed by at least 100 ms of backoff, long enough to be
    // seen. The peer is unreachable from the moment its connection is lost
    // (the per-peer stream keeps one open, so a connected channel only
    // leaves READY when it breaks) until a new one is made.
    const grpc_connectivity_state state =
        channel_->GetState(/*try_to_connect=*/false);
    if (state == GRPC_CHANNEL_READY) {
      unreachable_ = false;
    } else if (state == GRPC_CHANNEL_TRANSIENT_FAILURE ||
               last_state_ == GRPC_CHANNEL_READY) {
      unreachable_ = true;
    }
    last_state_ = state;
  }
  void Shutdown(bool unreachable_only) override {
    // Connected: its answers are due shortly. Otherwise its requests would
    // wait for the peer until their deadlines.
    const bool connected =
        channel_->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_READY;
    if (unreachable_only && connected) return;
    stream_->Close(/*wait_for_answers=*/connected);
  }
  bool Reachable() override {
    if (!unreachable_) return true;
    // Someone wants the peer: try it now rather than when gRPC's backoff
    // (up to a second) ends, so that a peer that restarted is noticed at
    // once; at most every kProbeInterval.
    const int64_t now = absl::ToUnixNanos(absl::Now());
    int64_t last = last_probe_ns_.load();
    if (now - last >= absl::ToInt64Nanoseconds(kProbeInterval) &&
        last_probe_ns_.compare_exchange_strong(last, now)) {
      grpc::experimental::ChannelResetConnectionBackoff(channel_.get());
      channel_->GetState(/*try_to_connect=*/true);
    }
    return false;
  }

 private:
  // Sends `request`, wrapped as the operation `wrap` names, on the stream;
  // `done` gets the result `unwrap` names.
  template <typename Request, typename Response>
  void Forward(Request* (PeerRequest::*wrap)(),
               Response* (PeerReply::*unwrap)(), const Request& request,
               absl::Time deadline, Done<Response> done) {
    PeerRequest wrapped;
    *(wrapped.*wrap)() = request;
    stream_->Send(std::move(wrapped), deadline,
                  [unwrap, done = std::move(done)](
                      absl::StatusOr<PeerReply> reply) {
                    if (!reply.ok()) return done(reply.status());
                    done(std::move(*((*reply).*unwrap)()));
                  });
  }

  static constexpr absl::Duration kProbeInterval = absl::Milliseconds(100);

  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<ReplicaService::Stub> stub_;
  const std::unique_ptr<PeerStream> stream_;
  // Whether the last connection attempt failed and none has succeeded
  // since.
  std::atomic<bool> unreachable_{false};
  // The sweeper's (ExpireOverdue) last sample.
  grpc_connectivity_state last_state_ = GRPC_CHANNEL_IDLE;
  std::atomic<int64_t> last_probe_ns_{0};
};

// Failures that say the peer itself is not answering, as opposed to an
// answer the peer gave.
bool PeerUnreachable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

// How often request deadlines are enforced: a small fraction of any
// deadline a request has.
constexpr absl::Duration kSweepInterval = absl::Milliseconds(5);

}  // namespace

PeerProxyFactory GrpcPeerProxyFactory(ChannelSecurity security) {
  return [security = std::move(security)](const std::string& address) {
    return std::make_unique<GrpcPeerProxy>(address, security);
  };
}

Peer::Peer(std::string address, std::unique_ptr<PeerProxy> proxy)
    : address_(std::move(address)), proxy_(std::move(proxy)) {}

void Peer::Begin() {
  absl::MutexLock lock(&mu_);
  ++in_flight_;
}

void Peer::Record(const absl::Status& status) {
  absl::MutexLock lock(&mu_);
  --in_flight_;
  if (status.ok()) {
    failed_at_ = absl::InfinitePast();
  } else if (PeerUnreachable(status)) {
    failed_at_ = absl::Now();
  }
}

bool Peer::healthy() const {
  if (!proxy_->Reachable()) return false;
  absl::MutexLock lock(&mu_);
  return absl::Now() - failed_at_ > kRecheckAfter;
}

void Peer::WaitIdle() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
}

// Record() last: PeerSet::WaitIdle may return, and the node shut down, as
// soon as the count drops.
template <typename Request, typename Response>
void Peer::Call(void (PeerProxy::*method)(const Request&, absl::Time,
                                          PeerProxy::Done<Response>),
                const Request& request, absl::Time deadline,
                std::function<void(absl::StatusOr<Response>)> done) {
  Begin();
  (proxy_.get()->*method)(
      request, deadline,
      [this, done = std::move(done)](absl::StatusOr<Response> response) {
        const absl::Status status = response.status();
        done(std::move(response));
        Record(status);
      });
}

void Peer::Apply(const ApplyRequest& request, absl::Time deadline,
                 std::function<void(absl::StatusOr<ApplyResponse>)> done) {
  Call(&PeerProxy::Apply, request, deadline, std::move(done));
}

void Peer::Read(const ReadRequest& request, absl::Time deadline,
                std::function<void(absl::StatusOr<ReadResponse>)> done) {
  Call(&PeerProxy::Read, request, deadline, std::move(done));
}

void Peer::Tree(const TreeRequest& request, absl::Time deadline,
                std::function<void(absl::StatusOr<TreeResponse>)> done) {
  Call(&PeerProxy::Tree, request, deadline, std::move(done));
}

void Peer::Rows(const RowsRequest& request, absl::Time deadline,
                std::function<void(absl::StatusOr<RowsResponse>)> done) {
  Call(&PeerProxy::Rows, request, deadline, std::move(done));
}

void Peer::Range(const RangeRequest& request, absl::Time deadline,
                 std::function<void(absl::StatusOr<RangeResponse>)> done) {
  Call(&PeerProxy::Range, request, deadline, std::move(done));
}

void Peer::Paxos(const PaxosRequest& request, absl::Time deadline,
                 std::function<void(absl::StatusOr<PaxosResponse>)> done) {
  Call(&PeerProxy::Paxos, request, deadline, std::move(done));
}

std::unique_ptr<grpc::ClientReaderInterface<PartitionChunk>>
Peer::StreamPartition(grpc::ClientContext* context,
                      const StreamPartitionRequest& request) {
  return proxy_->StreamPartition(context, request);
}

PeerSet::PeerSet(PeerProxyFactory factory)
    : factory_(std::move(factory)), sweeper_([this] {
        const absl::Time now = absl::Now();
        for (Peer* peer : All()) peer->proxy_->ExpireOverdue(now);
        return kSweepInterval;
      }) {
  sweeper_.Start();
}

PeerSet::~PeerSet() {
  WaitIdle();
  sweeper_.Stop();
}

Peer* PeerSet::Get(const std::string& address) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = peers_.find(address);
    if (it != peers_.end()) return it->second.get();
  }
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Peer>& peer = peers_[address];
  if (peer == nullptr) peer = std::make_unique<Peer>(address, factory_(address));
  return peer.get();
}

std::vector<Peer*> PeerSet::All() {
  std::vector<Peer*> peers;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [address, peer] : peers_) peers.push_back(peer.get());
  return peers;
}

void PeerSet::GiveUpOnUnreachable() {
  for (Peer* peer : All()) peer->proxy_->Shutdown(/*unreachable_only=*/true);
}

void PeerSet::WaitIdle() {
  for (Peer* peer : All()) peer->proxy_->Shutdown(/*unreachable_only=*/false);
  for (Peer* peer : All()) peer->WaitIdle();
}

}  // namespace quorumkv
