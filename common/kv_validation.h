// Checks of the requests beyond put, get and delete, made wherever one
// enters (the SDK before sending, the master's relay, the node that serves
// it), with errors that name the problem: INVALID_ARGUMENT, and nothing is
// written.
#ifndef QUORUMKV_COMMON_KV_VALIDATION_H_
#define QUORUMKV_COMMON_KV_VALIDATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/directory.h"
#include "proto/kv.pb.h"

namespace quorumkv {

// Most keys one scan page returns.
inline constexpr uint32_t kMaxScanLimit = 1000;

// A page request: partition below `partitions`, limit 1..kMaxScanLimit, a
// start key and prefix within the key limit.
absl::Status ValidateScan(const ScanRequest& request, uint32_t partitions);

// A key, at most one condition, one action (a value within the limits and
// a TTL only with a value).
absl::Status ValidateCas(const CasRequest& request);

// FAILED_PRECONDITION for a conditional write of `key`, which is under none
// of the cluster's linearizable prefixes: it names them, or the master flag
// that declares them.
absl::Status NotLinearizable(const DirectoryView& directory,
                             absl::string_view key);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_KV_VALIDATION_H_
