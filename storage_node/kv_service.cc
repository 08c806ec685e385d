#include "storage_node/kv_service.h"

#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/batch_stream_server.h"
#include "common/grpc_util.h"
#include "common/hlc.h"
#include "common/kv_methods.h"
#include "common/kv_validation.h"
#include "common/limits.h"
#include "common/rpc_status.h"
#include "common/status_macros.h"
#include "storage_node/ownership.h"
#include "storage_node/paxos/proposer.h"
#include "storage_node/row_registers.h"

namespace quorumkv {
namespace {

// When a value written now with `ttl_ms` to live expires.
int64_t ExpiresAt(uint64_t ttl_ms) {
  return absl::ToUnixMillis(absl::Now()) + static_cast<int64_t>(ttl_ms);
}

}  // namespace

NodeKvService::NodeKvService(Coordinator* coordinator,
                             const DirectoryHolder* directory,
                             RequestMetrics* metrics,
                             std::function<void()> request_refresh,
                             const TokenSet* tokens, HotKeyTracker* hot)
    : KvServiceFront(tokens),
      coordinator_(coordinator),
      directory_(directory),
      metrics_(metrics),
      hot_(hot),
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

absl::Status NodeKvService::AdmitPartition(uint32_t partition,
                                           uint64_t sender_epoch,
                                           DirectoryPtr* directory) const {
  *directory = directory_->Get();
  RETURN_IF_ERROR(CheckSenderEpoch(**directory, coordinator_->self_id(),
                                   sender_epoch, request_refresh_));
  RETURN_IF_ERROR(CheckFormed(**directory));
  return CheckHolds(**directory, coordinator_->self_id(), partition);
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
  if (ExpiredAt(value, absl::ToUnixMillis(absl::Now()))) {
    return absl::NotFoundError(absl::StrCat(
        "node ", self, " holds a value that expired at ",
        absl::FormatTime(absl::FromUnixMillis(value.expires_at_ms())),
        " (version ", VersionToString(value.version()), ")"));
  }
  return ToGetResponse(std::move(value));
}

absl::StatusOr<uint32_t> NodeKvService::QuorumFor(
    const absl::Status& admitted, const char* name, uint32_t requested,
    const DirectoryPtr& directory) {
  if (!admitted.ok()) return admitted;
  return ResolveQuorum(name, requested, directory->replication());
}

GetResponse NodeKvService::ToGetResponse(VersionedValue value) {
  GetResponse response;
  response.set_value(std::move(*value.mutable_value()));
  *response.mutable_version() = value.version();
  response.set_expires_at_ms(value.expires_at_ms());
  return response;
}

template <typename Response>
void NodeKvService::Write(const std::string& key, VersionedValue value,
                          uint32_t w, uint64_t epoch, absl::Time deadline,
                          Done<Response> done) {
  DirectoryPtr directory;
  uint32_t partition = 0;
  absl::Status status = Admit(key, epoch, &directory, &partition);
  if (status.ok()) hot_->Count(partition, key, /*write=*/true);
  if constexpr (!std::is_same_v<Response, ExpireResponse>) {
    // A restored row (import) keeps its version: written as it was.
    if (status.ok() && directory->IsLinearizable(key) && !value.has_version()) {
      // A key under a linearizable prefix: a plain write is a Paxos round
      // without a condition, so that it cannot break conditional ones.
      CasRequest write;
      write.set_key(key);
      if (value.tombstone()) {
        write.set_delete_(true);
      } else {
        write.set_value(value.value());
        if (value.expires_at_ms() != 0) {
          write.set_ttl_ms(std::max<int64_t>(
              1, value.expires_at_ms() - absl::ToUnixMillis(absl::Now())));
        }
      }
      const uint32_t quorum = PaxosQuorum(directory->Replicas(partition).size(),
                                          directory->Joining(partition).size());
      coordinator_->Cas(
          std::move(directory), partition, std::move(write), deadline,
          [done = std::move(done), quorum](absl::StatusOr<CasResponse> cas) {
            if (!cas.ok()) return done(cas.status());
            Response response;
            *response.mutable_version() = cas->version();
            response.set_acks(quorum);
            done(std::move(response));
          });
      return;
    }
  }
  absl::StatusOr<uint32_t> quorum = QuorumFor(status, "W", w, directory);
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
        if constexpr (!std::is_same_v<Response, PutResponse>) {
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
  if (absl::Status s = ValidateTtl(request.ttl_ms(), /*zero_ok=*/true); !s.ok()) {
    done(std::move(s));
    return;
  }
  if (request.has_version() && request.ttl_ms() > 0) {
    done(absl::InvalidArgumentError(
        "a restored value takes an absolute expiry, not a TTL"));
    return;
  }
  VersionedValue value;
  value.set_value(request.value());
  if (request.ttl_ms() > 0) value.set_expires_at_ms(ExpiresAt(request.ttl_ms()));
  if (request.has_version()) {
    *value.mutable_version() = request.version();
    value.set_expires_at_ms(request.expires_at_ms());
  }
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

void NodeKvService::Handle(const ExpireRequest& request, absl::Time deadline,
                           Done<ExpireResponse> done) {
  if (absl::Status s = ValidateTtl(request.ttl_ms(), /*zero_ok=*/true); !s.ok()) {
    done(std::move(s));
    return;
  }
  // The expiry register alone (row_registers.h): a tombstone whose value
  // register is older than any write, so it changes no value anywhere. The
  // empty expiry version tells the writer to stamp that register.
  VersionedValue expiry;
  expiry.set_tombstone(true);
  expiry.mutable_expiry_version();
  if (request.ttl_ms() > 0) {
    expiry.set_expires_at_ms(ExpiresAt(request.ttl_ms()));
  }
  Write<ExpireResponse>(request.key(), std::move(expiry), request.w(),
                        request.directory_epoch(), deadline, std::move(done));
}

void NodeKvService::Handle(const ScanRequest& request, absl::Time deadline,
                           Done<ScanResponse> done) {
  DirectoryPtr directory;
  absl::Status status =
      AdmitPartition(request.partition(), request.directory_epoch(), &directory);
  if (status.ok()) status = ValidateScan(request, directory->partitions());
  absl::StatusOr<uint32_t> quorum =
      QuorumFor(status, "R", request.r(), directory);
  if (!quorum.ok()) {
    done(quorum.status());
    return;
  }
  coordinator_->Scan(std::move(directory), request, *quorum, deadline,
                     std::move(done));
}

void NodeKvService::Handle(const CasRequest& request, absl::Time deadline,
                           Done<CasResponse> done) {
  if (absl::Status s = ValidateCas(request); !s.ok()) {
    done(std::move(s));
    return;
  }
  DirectoryPtr directory;
  uint32_t partition = 0;
  if (absl::Status s = Admit(request.key(), request.directory_epoch(),
                             &directory, &partition);
      !s.ok()) {
    done(std::move(s));
    return;
  }
  hot_->Count(partition, request.key(), /*write=*/true);
  if (!request.any_key() && !directory->IsLinearizable(request.key())) {
    done(NotLinearizable(*directory, request.key()));
    return;
  }
  coordinator_->Cas(std::move(directory), partition, request, deadline,
                    std::move(done));
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
  if (status.ok()) hot_->Count(partition, request.key(), /*write=*/false);
  absl::StatusOr<uint32_t> quorum =
      QuorumFor(status, "R", request.r(), directory);
  if (!quorum.ok()) {
    done(quorum.status());
    return;
  }
  coordinator_->Read(
      std::move(directory), partition, request.key(), *quorum, deadline,
      [done = std::move(done)](absl::StatusOr<VersionedValue> value) {
        if (!value.ok()) return done(value.status());
        if (!LiveAt(*value, absl::ToUnixMillis(absl::Now()))) {
          return done(absl::NotFoundError("key not found"));
        }
        done(ToGetResponse(*std::move(value)));
      });
}

void NodeKvService::Serve(const PutRequest& request, absl::Time deadline,
                          Done<PutResponse> done) {
  Dispatcher()(request, deadline, std::move(done), nullptr);
}

void NodeKvService::Serve(const GetRequest& request, absl::Time deadline,
                          Done<GetResponse> done) {
  Dispatcher()(request, deadline, std::move(done), nullptr);
}

void NodeKvService::Serve(const DeleteRequest& request, absl::Time deadline,
                          Done<DeleteResponse> done) {
  Dispatcher()(request, deadline, std::move(done), nullptr);
}

void NodeKvService::Serve(const ExpireRequest& request, absl::Time deadline,
                          Done<ExpireResponse> done) {
  Dispatcher()(request, deadline, std::move(done), nullptr);
}

void NodeKvService::Serve(const ScanRequest& request, absl::Time deadline,
                          Done<ScanResponse> done) {
  Dispatcher()(request, deadline, std::move(done), nullptr);
}

void NodeKvService::Serve(const CasRequest& request, absl::Time deadline,
                          Done<CasResponse> done) {
  Dispatcher()(request, deadline, std::move(done), nullptr);
}

}  // namespace quorumkv
