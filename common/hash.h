// Stable key hashing: the same on every process, version and machine, so it
// may decide where data lives (XXH3 64-bit, seed 0, from Debian's libxxhash).
// Never std::hash or absl::Hash, which change between builds.
#ifndef QUORUMKV_COMMON_HASH_H_
#define QUORUMKV_COMMON_HASH_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace quorumkv {

// Part of the data placement contract: changing it moves every key.
uint64_t StableHash(absl::string_view bytes);

// The partition of `key` in a cluster of `partitions` partitions (> 0).
uint32_t PartitionOf(absl::string_view key, uint32_t partitions);

// Redis Cluster's hash slots: CRC16 (XMODEM) of the key, or of the part
// between its first '{' and the next '}' when that is not empty, mod
// 16384. Part of the placement contract of KEY_HASH_REDIS_SLOTS clusters.
inline constexpr uint32_t kRedisSlots = 16384;
uint32_t RedisSlot(absl::string_view key);
// The partition of `slot` when `partitions` (1 .. kRedisSlots) cut the
// slots into equal ranges, and the first slot of `partition`.
uint32_t PartitionOfSlot(uint32_t slot, uint32_t partitions);
uint32_t FirstSlotOf(uint32_t partition, uint32_t partitions);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_HASH_H_
