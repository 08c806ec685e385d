#include "storage_node/kv_service.h"

#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/batch_stream_server.h"
#include "common/grpc_util.h"
#include "common/hlc.h"
#include "common/kv_methods.h"
#include "common/limits.h"
#include "common/rpc_status.h"
#include "common/status_macros.h"
#include "storage_node/ownership.h"

namespace quorumkv {

NodeKvService::NodeKvService(Coordinator* coordinator,
                             const DirectoryHolder* directory,
                             RequestMetrics* metrics,
                             std::function<void()> request_refresh,
                             const TokenSet* tokens)
    : coordinator_(coordinator),
      directory_(directory),
      metrics_(metrics),
      auth_(tokens),
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

absl::StatusOr<GetResponse> NodeKvService::ReadOwnCopy(
    const GetRequest& request) const {
  RETURN_IF_ERROR(ValidateKey(request.key()));
  const std::string& self = coordinator_->self_id();
  if (request.from_node() != self) {
    return absl::InvalidArgumentError(absl::StrCat(
        "asked node ", request.from_node(), " but this is node ", self));
  }
  const DirectoryPtr directory = directory_->Get();
  RETURN_IF_ERROR(CheckFormed(*directory));
  absl::StatusOr<VersionedValue> stored = coordinator_->ReadLocal(
      directory->PartitionOf(request.key()), request.key());
  if (absl::IsNotFound(stored.status())) {
    return absl::NotFoundError(
        absl::StrCat("node ", self, " holds no version of the key"));
  }
  ASSIGN_OR_RETURN(VersionedValue value, std::move(stored));
  if (value.tombstone()) {
    return absl::NotFoundError(absl::StrCat(
        "node ", self, " holds a tombstone (deleted at version ",
        VersionToString(value.version()), ")"));
  }
  GetResponse response;
  response.set_value(std::move(*value.mutable_value()));
  *response.mutable_version() = value.version();
  return response;
}

template <typename Response>
void NodeKvService::Write(const std::string& key, VersionedValue value,
                          uint32_t w, uint64_t epoch, absl::Time deadline,
                          Done<Response> done) {
  DirectoryPtr directory;
  uint32_t partition = 0;
  absl::Status status = Admit(key, epoch, &directory, &partition);
  absl::StatusOr<uint32_t> quorum =
      status.ok() ? ResolveQuorum("W", w, directory->replication())
                  : absl::StatusOr<uint32_t>(status);
  if (!quorum.ok()) {
    done(quorum.status());
    return;
  }
  coordinator_->Write(
      std::move(directory), partition, key, std::move(value), *quorum,
      deadline,
      [done = std::move(done)](absl::StatusOr<WriteOutcome> outcome) {
        if (!outcome.ok()) return done(outcome.status());
        Response response;
        *response.mutable_version() = outcome->version;
        response.set_acks(outcome->acks);
        if constexpr (std::is_same_v<Response, DeleteResponse>) {
          response.set_existed(outcome->existed);
        }
        done(std::move(response));
      });
}

void NodeKvService::Handle(const PutRequest& request, absl::Time deadline,
                              Done<PutResponse> done) {
  if (absl::Status s = ValidateValue(request.value()); !s.ok()) {
    done(std::move(s));
    return;
  }
  VersionedValue value;
  value.set_value(request.value());
  Write<PutResponse>(request.key(), std::move(value), request.w(),
                     request.directory_epoch(), deadline, std::move(done));
}

void NodeKvService::Handle(const DeleteRequest& request,
                                 absl::Time deadline,
                                 Done<DeleteResponse> done) {
  VersionedValue tombstone;
  tombstone.set_tombstone(true);
  Write<DeleteResponse>(request.key(), std::move(tombstone), request.w(),
                        request.directory_epoch(), deadline, std::move(done));
}

void NodeKvService::Handle(const GetRequest& request, absl::Time deadline,
                              Done<GetResponse> done) {
  if (!request.from_node().empty()) {
    done(ReadOwnCopy(request));
    return;
  }
  DirectoryPtr directory;
  uint32_t partition = 0;
  absl::Status status = Admit(request.key(), request.directory_epoch(),
                              &directory, &partition);
  absl::StatusOr<uint32_t> quorum =
      status.ok() ? ResolveQuorum("R", request.r(), directory->replication())
                  : absl::StatusOr<uint32_t>(status);
  if (!quorum.ok()) {
    done(quorum.status());
    return;
  }
  coordinator_->Read(
      std::move(directory), partition, request.key(), *quorum, deadline,
      [done = std::move(done)](absl::StatusOr<VersionedValue> value) {
        if (!value.ok()) return done(value.status());
        if (value->tombstone()) return done(absl::NotFoundError("key not found"));
        GetResponse response;
        response.set_value(std::move(*value->mutable_value()));
        *response.mutable_version() = value->version();
        done(std::move(response));
      });
}

grpc::ServerUnaryReactor* NodeKvService::Put(
    grpc::CallbackServerContext* context, const PutRequest* request,
    PutResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
    return FinishNow(context, s);
  }
  return ServeUnary(context, *request, response, kDefaultDeadline, Handlers());
}

grpc::ServerUnaryReactor* NodeKvService::Delete(
    grpc::CallbackServerContext* context, const DeleteRequest* request,
    DeleteResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
    return FinishNow(context, s);
  }
  return ServeUnary(context, *request, response, kDefaultDeadline, Handlers());
}

grpc::ServerUnaryReactor* NodeKvService::Get(
    grpc::CallbackServerContext* context, const GetRequest* request,
    GetResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
    return FinishNow(context, s);
  }
  return ServeUnary(context, *request, response, kDefaultDeadline, Handlers());
}

grpc::ServerBidiReactor<KvRequestBatch, KvReplyBatch>* NodeKvService::Batch(
    grpc::CallbackServerContext* context) {
  if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
    return RefuseStream<KvRequestBatch, KvReplyBatch>(s);
  }
  return ServeKvBatch(&open_streams_, kDefaultDeadline, Handlers());
}

}  // namespace quorumkv
