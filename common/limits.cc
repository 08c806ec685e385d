#include "common/limits.h"

#include "absl/strings/str_cat.h"

namespace quorumkv {

absl::Status ValidateKey(absl::string_view key) {
  if (key.empty()) {
    return absl::InvalidArgumentError("key is empty (keys are 1 byte to 4 KiB)");
  }
  if (key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("key is ", key.size(), " bytes, over the limit of ",
                     kMaxKeyBytes, " bytes (4 KiB)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateValue(absl::string_view value) {
  if (value.size() > kMaxValueBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("value is ", value.size(), " bytes, over the limit of ",
                     kMaxValueBytes, " bytes (4 MiB)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateTtl(uint64_t ttl_ms, bool zero_ok) {
  if (ttl_ms == 0 && zero_ok) return absl::OkStatus();
  if (ttl_ms == 0) {
    return absl::InvalidArgumentError("TTL is 0; it must be at least 1 ms");
  }
  if (ttl_ms > kMaxTtlMs) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TTL of ", ttl_ms, " ms is beyond the limit of 100 years"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ResolveQuorum(const char* what, int64_t requested,
                                       uint32_t replication) {
  if (requested == 0) return replication / 2 + 1;
  if (requested < 1 || requested > replication) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, "=", requested, " is outside 1..N (N=",
                     replication, ")"));
  }
  return static_cast<uint32_t>(requested);
}

}  // namespace quorumkv
