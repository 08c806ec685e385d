#include "storage_node/kv_service.h"

#include <utility>

#include "common/grpc_util.h"
#include "common/limits.h"
#include "common/rpc_status.h"
#include "common/status_macros.h"
#include "storage_node/ownership.h"

namespace quorumkv {

NodeKvService::NodeKvService(Coordinator* coordinator,
                             const DirectoryHolder* directory,
                             LoadTracker* load,
                             std::function<void()> request_refresh)
    : coordinator_(coordinator),
      directory_(directory),
      load_(load),
      request_refresh_(std::move(request_refresh)) {}

absl::Status NodeKvService::Admit(absl::string_view key, uint64_t sender_epoch,
                                  DirectoryPtr* directory,
                                  uint32_t* partition) const {
  RETURN_IF_ERROR(ValidateKey(key));
  *directory = directory_->Get();
  RETURN_IF_ERROR(CheckSenderEpoch(**directory, coordinator_->self_id(),
                                   sender_epoch, request_refresh_));
  RETURN_IF_ERROR(CheckFormed(**directory));
  *partition = (*directory)->PartitionOf(key);
  return CheckHolds(**directory, coordinator_->self_id(), *partition);
}

template <typename Response>
void NodeKvService::Write(grpc::CallbackServerContext* context,
                          grpc::ServerUnaryReactor* reactor,
                          const std::string& key, VersionedValue value,
                          uint32_t w, uint64_t epoch, Response* response) {
  DirectoryPtr directory;
  uint32_t partition = 0;
  absl::Status status = Admit(key, epoch, &directory, &partition);
  absl::StatusOr<uint32_t> quorum =
      status.ok() ? ResolveQuorum("W", w, directory->replication())
                  : absl::StatusOr<uint32_t>(status);
  if (!quorum.ok()) {
    reactor->Finish(ToGrpcStatus(quorum.status()));
    return;
  }
  load_->RecordWrite();
  coordinator_->Write(
      std::move(directory), partition, key, std::move(value), *quorum,
      DeadlineOf(*context, kDefaultDeadline),
      [reactor, response](absl::StatusOr<WriteOutcome> outcome) {
        if (outcome.ok()) {
          *response->mutable_version() = outcome->version;
          response->set_acks(outcome->acks);
        }
        reactor->Finish(ToGrpcStatus(outcome.status()));
      });
}

grpc::ServerUnaryReactor* NodeKvService::Put(
    grpc::CallbackServerContext* context, const PutRequest* request,
    PutResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status s = ValidateValue(request->value()); !s.ok()) {
    reactor->Finish(ToGrpcStatus(s));
    return reactor;
  }
  VersionedValue value;
  value.set_value(request->value());
  Write(context, reactor, request->key(), std::move(value), request->w(),
        request->directory_epoch(), response);
  return reactor;
}

grpc::ServerUnaryReactor* NodeKvService::Delete(
    grpc::CallbackServerContext* context, const DeleteRequest* request,
    DeleteResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  VersionedValue tombstone;
  tombstone.set_tombstone(true);
  Write(context, reactor, request->key(), std::move(tombstone), request->w(),
        request->directory_epoch(), response);
  return reactor;
}

grpc::ServerUnaryReactor* NodeKvService::Get(
    grpc::CallbackServerContext* context, const GetRequest* request,
    GetResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  DirectoryPtr directory;
  uint32_t partition = 0;
  absl::Status status = Admit(request->key(), request->directory_epoch(),
                              &directory, &partition);
  absl::StatusOr<uint32_t> quorum =
      status.ok() ? ResolveQuorum("R", request->r(), directory->replication())
                  : absl::StatusOr<uint32_t>(status);
  if (!quorum.ok()) {
    reactor->Finish(ToGrpcStatus(quorum.status()));
    return reactor;
  }
  load_->RecordRead();
  coordinator_->Read(
      std::move(directory), partition, request->key(), *quorum,
      DeadlineOf(*context, kDefaultDeadline),
      [reactor, response](absl::StatusOr<VersionedValue> value) {
        if (value.ok() && value->tombstone()) {
          reactor->Finish(ToGrpcStatus(absl::NotFoundError("key not found")));
          return;
        }
        if (value.ok()) {
          response->set_value(std::move(*value->mutable_value()));
          *response->mutable_version() = value->version();
        }
        reactor->Finish(ToGrpcStatus(value.status()));
      });
  return reactor;
}

}  // namespace quorumkv
