#include "common/hash.h"

#include <xxhash.h>

namespace quorumkv {

uint64_t StableHash(absl::string_view bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

uint32_t PartitionOf(absl::string_view key, uint32_t partitions) {
  return static_cast<uint32_t>(StableHash(key) % partitions);
}

}  // namespace quorumkv
