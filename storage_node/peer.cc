#include "storage_node/peer.h"

#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/grpc_util.h"
#include "common/rpc_status.h"

namespace quorumkv {
namespace {

class GrpcPeerProxy final : public PeerProxy {
 public:
  explicit GrpcPeerProxy(const std::string& address)
      : stub_(ReplicaService::NewStub(MakeChannel(address))) {}

  void Apply(grpc::ClientContext* context, const ApplyRequest* request,
             ApplyResponse* response, Done done) override {
    stub_->async()->Apply(context, request, response, std::move(done));
  }
  void Read(grpc::ClientContext* context, const ReadRequest* request,
            ReadResponse* response, Done done) override {
    stub_->async()->Read(context, request, response, std::move(done));
  }
  std::unique_ptr<grpc::ClientReaderInterface<PartitionChunk>> StreamPartition(
      grpc::ClientContext* context,
      const StreamPartitionRequest& request) override {
    return stub_->StreamPartition(context, request);
  }

 private:
  const std::unique_ptr<ReplicaService::Stub> stub_;
};

// Failures that say the peer itself is not answering, as opposed to an
// answer the peer gave.
bool PeerUnreachable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

}  // namespace

PeerProxyFactory GrpcPeerProxyFactory() {
  return [](const std::string& address) {
    return std::make_unique<GrpcPeerProxy>(address);
  };
}

Peer::Peer(std::string address, std::unique_ptr<PeerProxy> proxy)
    : address_(std::move(address)), proxy_(std::move(proxy)) {}

void Peer::Record(const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  --in_flight_;
  if (status.ok()) {
    healthy_ = true;
  } else if (PeerUnreachable(status)) {
    healthy_ = false;
  }
}

bool Peer::healthy() const {
  absl::MutexLock lock(&mu_);
  return healthy_;
}

int Peer::in_flight() const {
  absl::MutexLock lock(&mu_);
  return in_flight_;
}

void Peer::WaitIdle() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
}

template <typename Response, typename Request, typename Method>
void Peer::Call(const Request& request, absl::Time deadline, Method method,
                std::function<void(absl::StatusOr<Response>)> done) {
  struct State {
    grpc::ClientContext context;
    Request request;
    Response response;
  };
  auto state = std::make_shared<State>();
  state->request = request;
  state->context.set_deadline(absl::ToChronoTime(deadline));
  {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
  }
  (proxy_.get()->*method)(
      &state->context, &state->request, &state->response,
      [this, state, done = std::move(done)](grpc::Status status) {
        // Record() last: PeerSet::WaitIdle may return, and the node shut
        // down, as soon as the count drops.
        if (status.ok()) {
          done(std::move(state->response));
        } else {
          done(FromGrpcStatus(status));
        }
        Record(status);
      });
}

void Peer::Apply(const ApplyRequest& request, absl::Time deadline,
                 std::function<void(absl::StatusOr<ApplyResponse>)> done) {
  Call<ApplyResponse>(request, deadline, &PeerProxy::Apply, std::move(done));
}

void Peer::Read(const ReadRequest& request, absl::Time deadline,
                std::function<void(absl::StatusOr<ReadResponse>)> done) {
  Call<ReadResponse>(request, deadline, &PeerProxy::Read, std::move(done));
}

absl::StatusOr<ApplyResponse> Peer::ApplyAndWait(const ApplyRequest& request,
                                                 absl::Time deadline) {
  absl::Notification answered;
  absl::StatusOr<ApplyResponse> result;
  Apply(request, deadline, [&](absl::StatusOr<ApplyResponse> response) {
    result = std::move(response);
    answered.Notify();
  });
  answered.WaitForNotification();
  return result;
}

std::unique_ptr<grpc::ClientReaderInterface<PartitionChunk>>
Peer::StreamPartition(grpc::ClientContext* context,
                      const StreamPartitionRequest& request) {
  return proxy_->StreamPartition(context, request);
}

PeerSet::PeerSet(PeerProxyFactory factory) : factory_(std::move(factory)) {}

PeerSet::~PeerSet() { WaitIdle(); }

Peer* PeerSet::Get(const std::string& address) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Peer>& peer = peers_[address];
  if (peer == nullptr) peer = std::make_unique<Peer>(address, factory_(address));
  return peer.get();
}

void PeerSet::WaitIdle() {
  std::vector<Peer*> peers;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [address, peer] : peers_) peers.push_back(peer.get());
  }
  for (Peer* peer : peers) peer->WaitIdle();
}

}  // namespace quorumkv
