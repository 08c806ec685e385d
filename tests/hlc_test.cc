#include "common/hlc.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace quorumkv {
namespace {

Version V(uint64_t wall, uint32_t logical, const std::string& node) {
  Version v;
  v.set_wall_ms(wall);
  v.set_logical(logical);
  v.set_node_id(node);
  return v;
}

TEST(VersionTest, OrdersByWallThenLogicalThenNode) {
  EXPECT_LT(CompareVersions(V(1, 9, "z"), V(2, 0, "a")), 0);
  EXPECT_LT(CompareVersions(V(2, 0, "z"), V(2, 1, "a")), 0);
  EXPECT_LT(CompareVersions(V(2, 1, "a"), V(2, 1, "b")), 0);
  EXPECT_EQ(CompareVersions(V(2, 1, "a"), V(2, 1, "a")), 0);
  EXPECT_GT(CompareVersions(V(3, 0, "a"), V(2, 5, "b")), 0);
  EXPECT_EQ(VersionToString(V(12, 3, "n1")), "12.3@n1");
}

TEST(HybridClockTest, StrictlyIncreasesWhenWallClockStandsStill) {
  HybridClock clock("n1", [] { return uint64_t{1000}; });
  Version prev = clock.Now();
  EXPECT_EQ(prev.wall_ms(), 1000u);
  for (int i = 0; i < 100; ++i) {
    Version next = clock.Now();
    EXPECT_TRUE(VersionLess(prev, next));
    prev = next;
  }
}

TEST(HybridClockTest, NeverGoesBackWhenWallClockDoes) {
  uint64_t wall = 5000;
  HybridClock clock("n1", [&] { return wall; });
  Version before = clock.Now();
  wall = 10;  // the machine's clock jumped back
  EXPECT_TRUE(VersionLess(before, clock.Now()));
}

TEST(HybridClockTest, MovesPastObservedVersions) {
  HybridClock clock("a", [] { return uint64_t{100}; });
  const Version remote = V(900, 7, "zzz");  // from a node whose clock is ahead
  ASSERT_TRUE(clock.Observe(remote).ok());
  const Version next = clock.Now();
  EXPECT_TRUE(VersionLess(remote, next)) << VersionToString(next);
  // Observing an older version changes nothing.
  ASSERT_TRUE(clock.Observe(V(1, 0, "b")).ok());
  EXPECT_TRUE(VersionLess(next, clock.Now()));
}

TEST(HybridClockTest, UniqueAcrossThreads) {
  HybridClock clock("n1");
  std::vector<std::vector<Version>> seen(4);
  std::vector<std::thread> threads;
  for (auto& out : seen) {
    threads.emplace_back([&clock, &out] {
      for (int i = 0; i < 1000; ++i) out.push_back(clock.Now());
    });
  }
  for (auto& t : threads) t.join();
  std::vector<Version> all;
  for (const auto& out : seen) {
    for (size_t i = 1; i < out.size(); ++i) {
      EXPECT_TRUE(VersionLess(out[i - 1], out[i]));
    }
    all.insert(all.end(), out.begin(), out.end());
  }
  std::sort(all.begin(), all.end(), VersionLess);
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_NE(CompareVersions(all[i - 1], all[i]), 0);
  }
}

// A node whose clock runs an hour ahead must not drag the others with it.
TEST(HybridClockTest, RefusesToFollowAVersionFarAhead) {
  uint64_t wall = 1'000'000;
  HybridClock clock("n1", [&] { return wall; }, /*max_lead_ms=*/10'000);
  const absl::Status far = clock.Observe(V(wall + 3'600'000, 0, "fast"));
  EXPECT_TRUE(absl::IsOutOfRange(far)) << far;
  EXPECT_NE(far.message().find("fast"), std::string::npos) << far;
  EXPECT_EQ(clock.Now().wall_ms(), wall);
  // Within the limit the clock follows, as the HLC must.
  ASSERT_TRUE(clock.Observe(V(wall + 9'000, 4, "near")).ok());
  const Version next = clock.Now();
  EXPECT_EQ(next.wall_ms(), wall + 9'000);
  EXPECT_EQ(next.logical(), 5u);
}

}  // namespace
}  // namespace quorumkv
