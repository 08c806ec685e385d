// The one place where absl::Status and grpc::Status meet. Codes map one to
// one; the typed detail (ErrorDetail in proto/kv.proto) travels as an
// absl::Status payload inside the process and as grpc error_details on the
// wire.
#ifndef QUORUMKV_COMMON_RPC_STATUS_H_
#define QUORUMKV_COMMON_RPC_STATUS_H_

#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "grpcpp/support/server_callback.h"

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"
#include "proto/kv.pb.h"

namespace quorumkv {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// A callback that finishes a unary call with the response it is given, or
// with its error.
template <typename Response>
std::function<void(absl::StatusOr<Response>)> FinishUnary(
    grpc::ServerUnaryReactor* reactor, Response* out) {
  return [reactor, out](absl::StatusOr<Response> response) {
    if (response.ok()) *out = *std::move(response);
    reactor->Finish(ToGrpcStatus(response.status()));
  };
}

// A status inside a batch (KvService.Batch, the per-peer stream), detail
// included.
void ToRequestError(const absl::Status& status, RequestError* error);
absl::Status FromRequestError(const RequestError& error);

// FAILED_PRECONDITION carrying `detail`: the receiver does not hold the
// partition at its epoch, or the sender's directory is newer.
absl::Status WrongNodeError(const WrongNode& detail, absl::string_view message);

// `code` (UNAVAILABLE or DEADLINE_EXCEEDED) carrying a QuorumNotReached
// detail.
absl::Status QuorumError(absl::StatusCode code, absl::string_view message,
                         const QuorumNotReached& detail);

// Marks `status`, the failure of a request that had left for its server
// (its stream broke or its deadline passed before the answer came), as one
// the server may have acted on. In-process only: a hop that forwards such a
// failure says what it means for its caller (common/write_outcome.h).
absl::Status MarkSent(absl::Status status);
// Whether `status` is marked so.
bool WasSent(const absl::Status& status);

// The typed detail of `status`, if it carries one.
std::optional<ErrorDetail> GetErrorDetail(const absl::Status& status);
// The WrongNode detail of `status`, if it carries one.
std::optional<WrongNode> GetWrongNode(const absl::Status& status);
// FAILED_PRECONDITION carrying `detail`: only the leader serves this.
absl::Status NotLeaderError(const NotLeader& detail, absl::string_view message);
// The NotLeader detail of `status`, if it carries one.
std::optional<NotLeader> GetNotLeader(const absl::Status& status);
// The QuorumNotReached detail of `status`, if it carries one.
std::optional<QuorumNotReached> GetQuorumNotReached(const absl::Status& status);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_RPC_STATUS_H_
