#include "storage_node/replica_service.h"

#include <utility>

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
                                              uint64_t sender_epoch) const {
  DirectoryPtr directory = directory_->Get();
  if (sender_epoch > directory->epoch()) {
    request_refresh_();
    return absl::OkStatus();
  }
  return CheckHolds(*directory, self_id_, partition);
}

grpc::ServerUnaryReactor* ReplicaServiceImpl::Apply(
    grpc::CallbackServerContext* context, const ApplyRequest* request,
    ApplyResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status =
      CheckAccepts(request->partition(), request->directory_epoch());
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
      CheckAccepts(request->partition(), request->directory_epoch());
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

}  // namespace quorumkv
