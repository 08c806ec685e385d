// Encoding of the hints a storage node keeps in RocksDB (storage_node/hints.h).
//
// PART OF THE ON-DISK FORMAT; DO NOT CHANGE.
//
// Key:   target node id + '\0' + sequence (8 bytes, big-endian), so that a
//        target's hints are contiguous and in the order they were written.
// Value: the ApplyRequest (proto/replica.proto) to deliver, serialized.
#ifndef QUORUMKV_STORAGE_NODE_HINT_FORMAT_H_
#define QUORUMKV_STORAGE_NODE_HINT_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/replica.pb.h"

namespace quorumkv {

// The key of `target`'s hint number `sequence`; `target` holds no '\0'.
std::string EncodeHintKey(absl::string_view target, uint64_t sequence);
// Every key of `target`'s hints starts with this.
std::string HintKeyPrefix(absl::string_view target);

struct HintKeyParts {
  std::string target;
  uint64_t sequence = 0;
};
// DATA_LOSS naming the problem when `key` is not a hint key.
absl::StatusOr<HintKeyParts> DecodeHintKey(absl::string_view key);

// DATA_LOSS when `value` is not a serialized ApplyRequest carrying a
// versioned value (what every stored hint is).
absl::StatusOr<ApplyRequest> DecodeHintValue(absl::string_view value);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_HINT_FORMAT_H_
