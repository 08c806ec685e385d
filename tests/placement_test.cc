#include "common/placement.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

struct Shape {
  std::vector<int> rack_sizes;
  uint32_t partitions;
  uint32_t replication;
};

std::vector<PlacementCandidate> Nodes(const Shape& shape) {
  std::vector<PlacementCandidate> nodes;
  for (size_t r = 0; r < shape.rack_sizes.size(); ++r) {
    for (int i = 0; i < shape.rack_sizes[r]; ++i) {
      nodes.push_back({absl::StrCat("n", r, "-", i), absl::StrCat("r", r),
                       1000});
    }
  }
  return nodes;
}

TEST(PlacementTest, PropertiesHoldOverManyClusterShapes) {
  std::vector<Shape> shapes;
  for (uint32_t n : {1u, 2u, 3u, 5u}) {
    for (uint32_t p : {1u, 7u, 16u, 64u, 100u}) {
      for (std::vector<int> racks :
           std::vector<std::vector<int>>{{3},
                                         {1, 1, 1},
                                         {2, 2, 2},
                                         {3, 3, 3, 3},
                                         {1, 1, 1, 1, 1},
                                         {5, 5},
                                         {4, 2, 1},
                                         {1, 2, 3, 4, 5},
                                         {10, 10, 10}}) {
        int total = 0;
        for (int s : racks) total += s;
        if (total >= static_cast<int>(n)) shapes.push_back({racks, p, n});
      }
    }
  }
  for (const Shape& shape : shapes) {
    SCOPED_TRACE(::testing::Message()
                 << "racks=" << shape.rack_sizes.size()
                 << " first rack=" << shape.rack_sizes[0]
                 << " P=" << shape.partitions << " N=" << shape.replication);
    const auto nodes = Nodes(shape);
    std::map<std::string, std::string> rack_of;
    for (const auto& n : nodes) rack_of[n.id] = n.rack;
    auto placed = PlacePartitions(nodes, shape.partitions, shape.replication);
    ASSERT_OK(placed);
    ASSERT_EQ(placed->size(), shape.partitions);

    const size_t racks = shape.rack_sizes.size();
    const bool equal_racks =
        std::all_of(shape.rack_sizes.begin(), shape.rack_sizes.end(),
                    [&](int s) { return s == shape.rack_sizes[0]; });
    std::map<std::string, int> counts;
    for (const auto& replicas : *placed) {
      ASSERT_EQ(replicas.size(), shape.replication);
      std::set<std::string> distinct(replicas.begin(), replicas.end());
      EXPECT_EQ(distinct.size(), replicas.size()) << "a node holds a copy twice";
      std::set<std::string> used_racks;
      for (const auto& id : replicas) used_racks.insert(rack_of[id]);
      EXPECT_EQ(used_racks.size(), std::min<size_t>(racks, shape.replication))
          << "replicas not spread over racks";
      for (const auto& id : replicas) ++counts[id];
    }
    // Balance: within one of the mean wherever racks allow it, that is
    // when racks are of equal size (unequal racks can force a small rack's
    // nodes to hold more: each partition must use every rack it can).
    if (equal_racks) {
      const double mean = double(shape.partitions) * shape.replication /
                          nodes.size();
      for (const auto& n : nodes) {
        EXPECT_LT(std::abs(counts[n.id] - mean), 1.0)
            << n.id << " holds " << counts[n.id] << ", mean " << mean;
      }
    }
    // Every node coordinates: the first replica is spread as evenly as the
    // holdings allow, whatever the rack sizes.
    std::map<std::string, int> leads;
    for (const auto& replicas : *placed) ++leads[replicas.front()];
    if (equal_racks) {
      const double mean = double(shape.partitions) / nodes.size();
      for (const auto& n : nodes) {
        EXPECT_LT(std::abs(leads[n.id] - mean), 1.0)
            << n.id << " leads " << leads[n.id] << ", mean " << mean;
      }
    }
  }
}

TEST(PlacementTest, BalanceLeadersOnlyReordersAndSpreadsTheFirstReplica) {
  // Every list led by "a": the worst case a directory formed before the
  // coordinator role was spread can be in.
  std::vector<std::vector<std::string>> assignments(
      12, std::vector<std::string>{"a", "b", "c"});
  std::vector<std::vector<std::string>*> lists;
  for (auto& a : assignments) lists.push_back(&a);
  EXPECT_EQ(BalanceLeaders(lists), 8);
  std::map<std::string, int> leads;
  for (const auto& replicas : assignments) {
    EXPECT_EQ(std::set<std::string>(replicas.begin(), replicas.end()),
              (std::set<std::string>{"a", "b", "c"}));
    ++leads[replicas.front()];
  }
  EXPECT_EQ(leads, (std::map<std::string, int>{{"a", 4}, {"b", 4}, {"c", 4}}));
  // Balanced already: nothing changes.
  EXPECT_EQ(BalanceLeaders(lists), 0);
}

// Whatever the replica lists, BalanceLeaders ends where no list has a
// member two or more leads lighter than its first replica, and only
// reorders lists.
TEST(PlacementTest, BalanceLeadersReachesItsFixpointOverRandomShapes) {
  std::mt19937 random(7);
  for (int round = 0; round < 60; ++round) {
    const int nodes = 2 + random() % 12;
    const uint32_t partitions = 1 + random() % (round < 50 ? 300 : 20000);
    const int replication = 1 + random() % std::min(nodes, 5);
    // Skewed: a few nodes are first far more often than the others.
    std::vector<std::vector<std::string>> assignments(partitions);
    for (auto& replicas : assignments) {
      std::vector<int> ids(nodes);
      std::iota(ids.begin(), ids.end(), 0);
      std::shuffle(ids.begin(), ids.end(), random);
      if (random() % 2 == 0) std::sort(ids.begin(), ids.begin() + replication);
      for (int i = 0; i < replication; ++i) {
        replicas.push_back(absl::StrCat("n", ids[i]));
      }
    }
    const auto before = assignments;
    std::vector<std::vector<std::string>*> lists;
    for (auto& a : assignments) lists.push_back(&a);
    const int changed = BalanceLeaders(lists);
    SCOPED_TRACE(::testing::Message() << "nodes=" << nodes << " P="
                                      << partitions << " N=" << replication);
    std::map<std::string, int> leads;
    int differ = 0;
    for (size_t p = 0; p < partitions; ++p) {
      EXPECT_EQ(std::set<std::string>(assignments[p].begin(),
                                      assignments[p].end()),
                std::set<std::string>(before[p].begin(), before[p].end()));
      differ += assignments[p] != before[p];
      ++leads[assignments[p].front()];
    }
    EXPECT_EQ(changed, differ);
    for (const auto& replicas : assignments) {
      for (const std::string& id : replicas) {
        EXPECT_LT(leads[replicas.front()], leads[id] + 2)
            << replicas.front() << " leads " << leads[replicas.front()]
            << ", its member " << id << " only " << leads[id];
      }
    }
    // Balanced already: nothing changes.
    EXPECT_EQ(BalanceLeaders(lists), 0);
  }
}

// PlacePartitions keeps an index to pick fast; it must choose exactly as
// PickReplica does over the whole candidate list, tie for tie.
TEST(PlacementTest, PlacementChoosesAsPickReplicaDoes) {
  std::mt19937 random(11);
  for (int round = 0; round < 40; ++round) {
    std::vector<PlacementCandidate> candidates;
    const int nodes = 1 + random() % 40;
    const int racks = 1 + random() % 8;
    for (int i = 0; i < nodes; ++i) {
      candidates.push_back({absl::StrCat("n", random() % 1000, "-", i),
                            absl::StrCat("r", random() % racks),
                            uint64_t{random() % 4} * 1000});
    }
    const uint32_t replication = 1 + random() % std::min(nodes, 5);
    const uint32_t partitions = 1 + random() % 200;
    SCOPED_TRACE(::testing::Message() << "nodes=" << nodes << " racks="
                                      << racks << " N=" << replication
                                      << " P=" << partitions);
    PartitionCounts counts;
    std::vector<std::vector<std::string>> expected(partitions);
    std::vector<std::vector<std::string>*> lists;
    for (auto& replicas : expected) {
      std::vector<const PlacementCandidate*> chosen;
      while (chosen.size() < replication) {
        const PlacementCandidate* next = PickReplica(candidates, chosen, counts);
        chosen.push_back(next);
        ++counts[next->id];
        replicas.push_back(next->id);
      }
      lists.push_back(&replicas);
    }
    BalanceLeaders(lists);
    auto placed = PlacePartitions(candidates, partitions, replication);
    ASSERT_OK(placed);
    EXPECT_EQ(*placed, expected);
  }
}

TEST(PlacementTest, ScatterWidthOfSixNodesOnThreeRacks) {
  // docs/placement.md quotes this figure: six nodes, two per rack, N=3 and
  // 64 partitions form two replica sets, the fewest that give every node a
  // share (of 2*2*2 = 8 that rack-awareness allows), so only 2 of the 20
  // ways three nodes can fail at once lose data.
  const auto nodes = Nodes({{2, 2, 2}, 64, 3});
  auto placed = PlacePartitions(nodes, 64, 3);
  ASSERT_OK(placed);
  std::set<std::set<std::string>> sets;
  for (const auto& replicas : *placed) {
    sets.emplace(replicas.begin(), replicas.end());
  }
  EXPECT_EQ(sets.size(), 2u);
}

TEST(PlacementTest, PrefersFreeSpaceAmongEquals) {
  std::vector<PlacementCandidate> nodes = {
      {"a", "r1", 10}, {"b", "r1", 500}, {"c", "r2", 1}};
  auto placed = PlacePartitions(nodes, 1, 2);
  ASSERT_OK(placed);
  EXPECT_EQ((*placed)[0], (std::vector<std::string>{"b", "c"}));
}

TEST(PlacementTest, RejectsTooFewNodes) {
  std::vector<PlacementCandidate> nodes = {{"a", "r1", 1}, {"b", "r2", 1}};
  EXPECT_TRUE(absl::IsInvalidArgument(PlacePartitions(nodes, 4, 3).status()));
}

}  // namespace
}  // namespace quorumkv
