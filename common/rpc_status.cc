#include "common/rpc_status.h"

#include <string>

#include "absl/strings/cord.h"

namespace quorumkv {
namespace {

constexpr absl::string_view kDetailTypeUrl =
    "type.googleapis.com/quorumkv.ErrorDetail";
// Never leaves the process (ToGrpcStatus and ToRequestError drop it).
constexpr absl::string_view kSentTypeUrl = "quorumkv/sent";

absl::Status WithDetail(absl::StatusCode code, absl::string_view message,
                        const ErrorDetail& detail) {
  absl::Status status(code, message);
  status.SetPayload(kDetailTypeUrl, absl::Cord(detail.SerializeAsString()));
  return status;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  std::string details;
  if (auto payload = status.GetPayload(kDetailTypeUrl)) {
    details = std::string(*payload);
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()), std::move(details));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
  if (!status.error_details().empty()) {
    result.SetPayload(kDetailTypeUrl, absl::Cord(status.error_details()));
  }
  return result;
}

void ToRequestError(const absl::Status& status, RequestError* error) {
  error->set_code(static_cast<int32_t>(status.code()));
  error->set_message(std::string(status.message()));
  if (auto detail = GetErrorDetail(status)) *error->mutable_detail() = *detail;
}

absl::Status FromRequestError(const RequestError& error) {
  const auto code = static_cast<absl::StatusCode>(error.code());
  if (code == absl::StatusCode::kOk) {
    return absl::InternalError("peer sent an error without a code");
  }
  if (error.has_detail()) return WithDetail(code, error.message(), error.detail());
  return absl::Status(code, error.message());
}

absl::Status WrongNodeError(const WrongNode& detail,
                            absl::string_view message) {
  ErrorDetail error;
  *error.mutable_wrong_node() = detail;
  return WithDetail(absl::StatusCode::kFailedPrecondition, message, error);
}

absl::Status NotLeaderError(const NotLeader& detail,
                            absl::string_view message) {
  ErrorDetail error;
  *error.mutable_not_leader() = detail;
  return WithDetail(absl::StatusCode::kFailedPrecondition, message, error);
}

std::optional<NotLeader> GetNotLeader(const absl::Status& status) {
  auto error = GetErrorDetail(status);
  if (!error || !error->has_not_leader()) return std::nullopt;
  return error->not_leader();
}

absl::Status QuorumError(absl::StatusCode code, absl::string_view message,
                         const QuorumNotReached& detail) {
  ErrorDetail error;
  *error.mutable_quorum_not_reached() = detail;
  return WithDetail(code, message, error);
}

absl::Status MarkSent(absl::Status status) {
  if (!status.ok()) status.SetPayload(kSentTypeUrl, absl::Cord());
  return status;
}

bool WasSent(const absl::Status& status) {
  return status.GetPayload(kSentTypeUrl).has_value();
}

std::optional<ErrorDetail> GetErrorDetail(const absl::Status& status) {
  auto payload = status.GetPayload(kDetailTypeUrl);
  if (!payload) return std::nullopt;
  ErrorDetail error;
  if (!error.ParseFromString(std::string(*payload))) return std::nullopt;
  return error;
}

std::optional<WrongNode> GetWrongNode(const absl::Status& status) {
  auto error = GetErrorDetail(status);
  if (!error || !error->has_wrong_node()) return std::nullopt;
  return error->wrong_node();
}

std::optional<QuorumNotReached> GetQuorumNotReached(const absl::Status& status) {
  auto error = GetErrorDetail(status);
  if (!error || !error->has_quorum_not_reached()) return std::nullopt;
  return error->quorum_not_reached();
}

}  // namespace quorumkv
