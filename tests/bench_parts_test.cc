// kvbench's parts: the latency histogram and the key chooser.
#include <algorithm>
#include <map>

#include "client/bench/key_chooser.h"
#include "client/bench/latency_histogram.h"
#include "gtest/gtest.h"

namespace quorumkv {
namespace {

TEST(LatencyHistogramTest, PercentilesAreWithinThreePercent) {
  LatencyHistogram histogram;
  for (int us = 1; us <= 100000; ++us) {
    histogram.Record(absl::Microseconds(us));
  }
  EXPECT_EQ(histogram.count(), 100000u);
  EXPECT_EQ(histogram.max(), absl::Microseconds(100000));
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double exact = q * 100000;
    const double got = absl::ToDoubleMicroseconds(histogram.Percentile(q));
    EXPECT_GE(got, exact * 0.99) << q;
    EXPECT_LE(got, exact * 1.04) << q;
  }
}

TEST(LatencyHistogramTest, MergesAndHandlesExtremes) {
  LatencyHistogram a, b;
  EXPECT_EQ(a.Percentile(0.99), absl::ZeroDuration());
  a.Record(absl::ZeroDuration());
  b.Record(absl::Hours(1000));  // beyond the last bucket: kept in it
  a.Merge(b);
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.Percentile(0.5), absl::ZeroDuration());
  EXPECT_EQ(a.Percentile(1.0), absl::Hours(1000));
}

TEST(KeyChooserTest, UniformCoversTheKeyspaceEvenly) {
  KeyChooser chooser(KeyDistribution::kUniform, 10);
  std::map<uint64_t, int> seen;
  for (int i = 0; i < 20000; ++i) ++seen[chooser.Next()];
  ASSERT_EQ(seen.size(), 10u);
  for (const auto& [key, count] : seen) {
    EXPECT_LT(key, 10u);
    EXPECT_GT(count, 1500);
  }
}

TEST(KeyChooserTest, ZipfianHasHotKeysInTheKeyspace) {
  KeyChooser chooser(KeyDistribution::kZipfian, 1000);
  std::map<uint64_t, int> seen;
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t key = chooser.Next();
    ASSERT_LT(key, 1000u);
    ++seen[key];
  }
  int hottest = 0;
  for (const auto& [key, count] : seen) hottest = std::max(hottest, count);
  // Uniform would give each key about 100 draws; theta 0.99 over 1000 keys
  // gives the hottest one about 13 % of them.
  EXPECT_GT(hottest, kDraws / 20);
  EXPECT_GT(seen.size(), 500u);
}

TEST(KeyChooserTest, DistributionNamesAreChecked) {
  EXPECT_TRUE(ParseKeyDistribution("zipfian").ok());
  EXPECT_TRUE(absl::IsInvalidArgument(ParseKeyDistribution("pareto").status()));
}

}  // namespace
}  // namespace quorumkv
