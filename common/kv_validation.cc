#include "common/kv_validation.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/limits.h"
#include "common/status_macros.h"

namespace quorumkv {

absl::Status ValidateScan(const ScanRequest& request, uint32_t partitions) {
  if (request.partition() >= partitions) {
    return absl::InvalidArgumentError(
        absl::StrCat("scan of partition ", request.partition(),
                     ": the cluster has partitions 0..", partitions - 1));
  }
  if (request.limit() < 1 || request.limit() > kMaxScanLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("scan limit ", request.limit(), " is outside 1..",
                     kMaxScanLimit));
  }
  if (request.start_after().size() > kMaxKeyBytes ||
      request.prefix().size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("scan start or prefix is over the key limit of ",
                     kMaxKeyBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status ValidateCas(const CasRequest& request) {
  RETURN_IF_ERROR(ValidateKey(request.key()));
  switch (request.action_case()) {
    case CasRequest::kValue:
      RETURN_IF_ERROR(ValidateValue(request.value()));
      return ValidateTtl(request.ttl_ms(), /*zero_ok=*/true);
    case CasRequest::kIncrement:
    case CasRequest::kDelete:
      if (request.ttl_ms() != 0) {
        return absl::InvalidArgumentError("a TTL goes only with a value");
      }
      return absl::OkStatus();
    case CasRequest::ACTION_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "conditional write without an action (a value, an increment or a "
      "delete)");
}

absl::Status NotLinearizable(const DirectoryView& directory,
                             absl::string_view key) {
  const auto& prefixes = directory.proto().linearizable_prefixes();
  return absl::FailedPreconditionError(absl::StrCat(
      "key '", absl::CHexEscape(key.substr(0, 64)),
      key.size() > 64 ? "...'" : "'",
      " is not under a linearizable prefix, so plain writes could break a "
      "conditional one; ",
      prefixes.empty()
          ? "the cluster declares none: start the masters with "
            "--linearizable_prefixes=PREFIX,..."
          : absl::StrCat("the cluster's are: ", absl::StrJoin(prefixes, ", "))));
}

}  // namespace quorumkv
