// Reading small files whole (identity, token and certificate files).
#ifndef QUORUMKV_COMMON_FILE_UTIL_H_
#define QUORUMKV_COMMON_FILE_UTIL_H_

#include <string>

#include "absl/status/statusor.h"

namespace quorumkv {

// The contents of `path`; NOT_FOUND when it does not exist, otherwise
// FAILED_PRECONDITION when it cannot be read (a directory, no permission).
// The message says "cannot read it: REASON"; callers prefix what names the
// file for their user (a flag and the path).
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_FILE_UTIL_H_
