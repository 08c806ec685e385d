#include "storage_node/replica_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/rpc_status.h"
#include "storage_node/ownership.h"

namespace quorumkv {

ReplicaServiceImpl::ReplicaServiceImpl(std::string self_id, Engine* engine,
                                       HybridClock* clock,
                                       const DirectoryHolder* directory,
                                       std::function<void()> request_refresh)
    : self_id_(std::move(self_id)),
      engine_(engine),
      clock_(clock),
      directory_(directory),
      request_refresh_(std::move(request_refresh)) {}

absl::Status ReplicaServiceImpl::CheckAccepts(uint32_t partition,
                                              uint64_t sender_epoch,
                                              bool joining_ok) const {
  DirectoryPtr directory = directory_->Get();
  if (sender_epoch > directory->epoch()) {
    request_refresh_();
    return absl::OkStatus();
  }
  if (joining_ok && directory->IsJoining(self_id_, partition)) {
    return absl::OkStatus();
  }
  return CheckHolds(*directory, self_id_, partition);
}

grpc::ServerUnaryReactor* ReplicaServiceImpl::Apply(
    grpc::CallbackServerContext* context, const ApplyRequest* request,
    ApplyResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status =
      CheckAccepts(request->partition(), request->directory_epoch(),
                   /*joining_ok=*/true);
  if (status.ok()) {
    clock_->Observe(request->value().version());
    auto applied = engine_->Apply(request->partition(), request->key(),
                                  request->value());
    status = applied.status();
    if (applied.ok()) response->set_applied(*applied);
  }
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* ReplicaServiceImpl::Read(
    grpc::CallbackServerContext* context, const ReadRequest* request,
    ReadResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status =
      CheckAccepts(request->partition(), request->directory_epoch(),
                   /*joining_ok=*/false);
  if (status.ok()) {
    auto value = engine_->Read(request->partition(), request->key());
    if (value.ok()) {
      clock_->Observe(value->version());
      response->set_found(true);
      *response->mutable_value() = *std::move(value);
    } else if (!absl::IsNotFound(value.status())) {
      status = value.status();
    }
  }
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

namespace {

// Bytes of rows per chunk: large enough to amortize a message, small enough
// that a chunk never nears the message limit (a 4 MiB value still fits one
// row per chunk).
constexpr size_t kChunkBytes = 256 * 1024;

class PartitionStreamer final
    : public grpc::ServerWriteReactor<PartitionChunk> {
 public:
  explicit PartitionStreamer(std::unique_ptr<Engine::PartitionScan> scan)
      : scan_(std::move(scan)) {
    SendNext();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                          "the receiver went away"));
      return;
    }
    if (!more_) {
      Finish(grpc::Status::OK);
      return;
    }
    SendNext();
  }
  void OnDone() override { delete this; }

 private:
  void SendNext() {
    chunk_.Clear();
    absl::StatusOr<bool> more = scan_->Next(kChunkBytes, &chunk_);
    if (!more.ok()) {
      Finish(ToGrpcStatus(more.status()));
      return;
    }
    more_ = *more;
    if (chunk_.rows_size() == 0 && !more_) {
      Finish(grpc::Status::OK);
      return;
    }
    StartWrite(&chunk_);
  }

  std::unique_ptr<Engine::PartitionScan> scan_;
  PartitionChunk chunk_;
  bool more_ = true;
};

class FailedStream final : public grpc::ServerWriteReactor<PartitionChunk> {
 public:
  explicit FailedStream(const absl::Status& status) {
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<PartitionChunk>* ReplicaServiceImpl::StreamPartition(
    grpc::CallbackServerContext*, const StreamPartitionRequest* request) {
  DirectoryPtr directory = directory_->Get();
  if (request->directory_epoch() > directory->epoch()) {
    // Until this node routes by the receiver's directory it may coordinate
    // writes that skip the receiver; those must be in the snapshot.
    request_refresh_();
    return new FailedStream(absl::UnavailableError(absl::StrCat(
        "source ", self_id_, " is at directory epoch ", directory->epoch(),
        ", behind the receiver's ", request->directory_epoch(),
        "; retry shortly")));
  }
  if (absl::Status held = CheckHolds(*directory, self_id_, request->partition());
      !held.ok()) {
    return new FailedStream(held);
  }
  return new PartitionStreamer(
      engine_->ScanPartition(request->partition(), request->start_after()));
}

}  // namespace quorumkv
