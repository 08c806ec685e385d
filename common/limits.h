// Limits every entry point enforces (keys 1 B..4 KiB, values up to
// 4 MiB), with errors that name the limit.
#ifndef QUORUMKV_COMMON_LIMITS_H_
#define QUORUMKV_COMMON_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quorumkv {

inline constexpr size_t kMaxKeyBytes = 4 * 1024;
inline constexpr size_t kMaxValueBytes = 4 * 1024 * 1024;
// gRPC message limit on every server and channel: a maximal value and key
// plus framing, with room to spare.
inline constexpr int kMaxMessageBytes = 8 * 1024 * 1024;

// INVALID_ARGUMENT unless 1 <= key.size() <= kMaxKeyBytes.
absl::Status ValidateKey(absl::string_view key);
// INVALID_ARGUMENT unless value.size() <= kMaxValueBytes.
absl::Status ValidateValue(absl::string_view value);

// A batch call of the SDK (BatchGet, BatchPut, BatchDelete): keys, and
// bytes of keys and values together.
inline constexpr size_t kMaxBatchKeys = 1024;
inline constexpr size_t kMaxBatchBytes = 16 * 1024 * 1024;

// Times to live: 1 ms .. 100 years.
inline constexpr uint64_t kMaxTtlMs = 100ull * 365 * 24 * 3600 * 1000;
// INVALID_ARGUMENT unless 1 <= ttl_ms <= kMaxTtlMs; `zero_ok` lets 0 pass
// (no expiry).
absl::Status ValidateTtl(uint64_t ttl_ms, bool zero_ok);

// The quorum to use for a request asking `requested` (0: the default,
// N/2+1) of `replication` replicas. INVALID_ARGUMENT, naming `what` ("W" or
// "R"), outside 1..N.
absl::StatusOr<uint32_t> ResolveQuorum(const char* what, int64_t requested,
                                       uint32_t replication);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_LIMITS_H_
