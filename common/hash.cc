#include "common/hash.h"

#include <xxhash.h>

namespace quorumkv {

uint64_t StableHash(absl::string_view bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

uint32_t PartitionOf(absl::string_view key, uint32_t partitions) {
  return static_cast<uint32_t>(StableHash(key) % partitions);
}

namespace {

// CRC-16/XMODEM (polynomial 0x1021, initial 0), bit by bit: keys are
// short and a table would be one more thing to get wrong.
uint16_t Crc16(absl::string_view bytes) {
  uint16_t crc = 0;
  for (unsigned char c : bytes) {
    crc ^= static_cast<uint16_t>(c) << 8;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

}  // namespace

uint32_t RedisSlot(absl::string_view key) {
  const size_t open = key.find('{');
  if (open != absl::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != absl::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(key) % kRedisSlots;
}

uint32_t PartitionOfSlot(uint32_t slot, uint32_t partitions) {
  return static_cast<uint32_t>(uint64_t{slot} * partitions / kRedisSlots);
}

uint32_t FirstSlotOf(uint32_t partition, uint32_t partitions) {
  // The smallest slot s with s * partitions / kRedisSlots >= partition.
  return static_cast<uint32_t>(
      (uint64_t{partition} * kRedisSlots + partitions - 1) / partitions);
}

}  // namespace quorumkv
