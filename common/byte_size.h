// Byte sizes and rates as flags take them: "64MB", "1GB", "512KiB", "100"
// (bytes), and rates "64MB/s". Units are powers of 1024 (KB = KiB = 1024
// bytes). A rate of 0 means "unlimited".
#ifndef QUORUMKV_COMMON_BYTE_SIZE_H_
#define QUORUMKV_COMMON_BYTE_SIZE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quorumkv {

// INVALID_ARGUMENT naming the text when it is not a size.
absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text);
// "64MB/s" (the "/s" is required, except for "0").
absl::StatusOr<uint64_t> ParseByteRate(absl::string_view text);
// The shortest exact spelling: 67108864 -> "64MB".
std::string FormatByteSize(uint64_t bytes);

// A flag type for sizes: ABSL_FLAG(quorumkv::ByteSize, max_hint_bytes, ...).
struct ByteSize {
  uint64_t bytes = 0;
};
bool AbslParseFlag(absl::string_view text, ByteSize* size, std::string* error);
std::string AbslUnparseFlag(ByteSize size);

// A flag type for rates: ABSL_FLAG(quorumkv::ByteRate, stream_rate, ...).
struct ByteRate {
  uint64_t bytes_per_sec = 0;
};
bool AbslParseFlag(absl::string_view text, ByteRate* rate, std::string* error);
std::string AbslUnparseFlag(ByteRate rate);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_BYTE_SIZE_H_
