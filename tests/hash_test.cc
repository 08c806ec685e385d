#include "common/hash.h"

#include <string>

#include "gtest/gtest.h"

namespace quorumkv {
namespace {

// Known answers of XXH3-64 (seed 0) from the xxHash reference: if these
// change, every key of every cluster moves partition.
TEST(StableHashTest, MatchesReferenceValues) {
  EXPECT_EQ(StableHash(""), 0x2D06800538D394C2ULL);
  EXPECT_EQ(StableHash("a"), 0xE6C632B61E964E1FULL);
  EXPECT_EQ(StableHash("abc"), 0x78AF5F94892F3950ULL);
}

TEST(StableHashTest, PartitionIsHashModP) {
  for (uint32_t p : {1u, 7u, 64u, 1000u}) {
    for (const std::string key : {"a", "user:42", "\x00\xff"}) {
      EXPECT_EQ(PartitionOf(key, p), StableHash(key) % p);
      EXPECT_LT(PartitionOf(key, p), p);
    }
  }
}

TEST(StableHashTest, SpreadsKeysOverPartitions) {
  constexpr uint32_t kPartitions = 64;
  int counts[kPartitions] = {};
  for (int i = 0; i < 64000; ++i) {
    ++counts[PartitionOf("key-" + std::to_string(i), kPartitions)];
  }
  for (int c : counts) {
    EXPECT_GT(c, 800);   // mean 1000
    EXPECT_LT(c, 1200);
  }
}

}  // namespace
}  // namespace quorumkv
