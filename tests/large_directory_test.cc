// A large directory forms quickly: 65 536 partitions on six nodes of three
// racks, real processes. Leader balancing once rescanned every partition
// for each swap, and this cluster took minutes to form with the master at
// full CPU; now placement and balancing are near-linear (a Google Benchmark
// in benchmarks/placement_benchmark.cc measures them) and the cluster is
// healthy well within the deadline below, which only bounds the wait.
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "quorumkv/client.h"
#include "tests/process_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

TEST(LargeDirectoryTest, SixtyFiveThousandPartitionsFormAndServe) {
  ProcessClusterOptions options;
  options.bin_dir = QKV_BIN_DIR;
  options.nodes = 6;
  options.racks = 3;
  // Past Redis's 16384 slots: keys map by XXH3.
  options.master_flags = {"--partitions=65536", "--key_hash=xxh3"};
  ProcessCluster cluster(options);
  ASSERT_OK(cluster.Start(absl::Seconds(60)));

  auto client = cluster.NewClient(QueryMode::kIterative, absl::Seconds(5));
  ASSERT_OK(client);
  auto summary = (*client)->Nodes();
  ASSERT_OK(summary);
  EXPECT_EQ(summary->partitions, 65536u);
  EXPECT_EQ(summary->under_replicated, 0u);
  for (int i = 0; i < 20; ++i) {
    const std::string key = "large-" + std::to_string(i);
    ASSERT_OK((*client)->Put(key, "v"));
    auto got = (*client)->Get(key);
    ASSERT_OK(got);
    EXPECT_EQ(got->value, "v");
  }
}

}  // namespace
}  // namespace quorumkv
