// The move planner over many cluster shapes, without a cluster: after its
// plan is carried out, every partition has N replicas on distinct racks
// where racks allow, none on a dead, decommissioning or removed node,
// counts are within one of the mean where racks allow, and the number of
// moves stays close to the minimum.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "common/placement.h"
#include "master/move_planner.h"

namespace quorumkv {
namespace {

using Health = PlannerNode::Health;

std::vector<PlannerNode> MakeNodes(const std::vector<int>& nodes_per_rack,
                                   const std::string& prefix = "n") {
  std::vector<PlannerNode> nodes;
  for (size_t r = 0; r < nodes_per_rack.size(); ++r) {
    for (int i = 0; i < nodes_per_rack[r]; ++i) {
      PlannerNode n;
      n.id = absl::StrCat(prefix, r, "-", i);
      n.rack = absl::StrCat("r", r);
      n.free_bytes = 1 << 30;
      nodes.push_back(n);
    }
  }
  return nodes;
}

Directory Form(const std::vector<PlannerNode>& nodes, uint32_t partitions,
               uint32_t replication) {
  std::vector<PlacementCandidate> candidates;
  Directory d;
  d.set_partitions(partitions);
  d.set_replication(replication);
  for (const PlannerNode& n : nodes) {
    candidates.push_back({n.id, n.rack, n.free_bytes});
    NodeDescriptor* node = d.add_nodes();
    node->set_id(n.id);
    node->set_rack(n.rack);
  }
  auto placed = PlacePartitions(candidates, partitions, replication);
  EXPECT_TRUE(placed.ok()) << placed.status();
  for (const auto& replicas : *placed) {
    PartitionReplicas* p = d.add_assignments();
    for (const std::string& id : replicas) p->add_node_ids(id);
  }
  return d;
}

void AddNodes(Directory* d, std::vector<PlannerNode>* nodes,
              const std::vector<PlannerNode>& added) {
  for (const PlannerNode& n : added) {
    nodes->push_back(n);
    NodeDescriptor* node = d->add_nodes();
    node->set_id(n.id);
    node->set_rack(n.rack);
  }
}

// Carries out `moves` as the tracker would once each completes.
void Apply(Directory* d, const std::vector<PlannedMove>& moves) {
  for (const PlannedMove& m : moves) {
    auto* ids = d->mutable_assignments(m.partition)->mutable_node_ids();
    auto it = std::find(ids->begin(), ids->end(), m.from);
    if (!m.from.empty() && it != ids->end()) {
      *it = m.to;
    } else {
      *ids->Add() = m.to;
    }
  }
}

// Plans and applies until the plan is empty; returns the moves made.
size_t Settle(Directory* d, const std::vector<PlannerNode>& nodes) {
  size_t moves = 0;
  for (int round = 0; round < 10; ++round) {
    std::vector<PlannedMove> plan = PlanMoves(*d, nodes);
    if (plan.empty()) return moves;
    moves += plan.size();
    Apply(d, plan);
  }
  ADD_FAILURE() << "the plan did not converge in 10 rounds";
  return moves;
}

std::map<std::string, int> Counts(const Directory& d) {
  std::map<std::string, int> counts;
  for (const auto& p : d.assignments()) {
    for (const auto& id : p.node_ids()) ++counts[id];
  }
  return counts;
}

// N replicas, distinct nodes, distinct racks (min(N, racks) of them), none
// on a node in `gone`.
void ExpectPlacementHolds(const Directory& d,
                          const std::vector<PlannerNode>& nodes,
                          const std::set<std::string>& gone = {}) {
  std::map<std::string, std::string> rack_of;
  std::set<std::string> racks;
  for (const PlannerNode& n : nodes) {
    if (gone.count(n.id)) continue;
    rack_of[n.id] = n.rack;
    racks.insert(n.rack);
  }
  const size_t want_racks = std::min<size_t>(d.replication(), racks.size());
  for (int p = 0; p < d.assignments_size(); ++p) {
    const auto& ids = d.assignments(p).node_ids();
    ASSERT_EQ(ids.size(), static_cast<int>(d.replication())) << "partition " << p;
    std::set<std::string> distinct(ids.begin(), ids.end()), on_racks;
    EXPECT_EQ(distinct.size(), d.replication()) << "partition " << p;
    for (const auto& id : ids) {
      EXPECT_FALSE(gone.count(id)) << "partition " << p << " still on " << id;
      on_racks.insert(rack_of[id]);
    }
    EXPECT_GE(on_racks.size(), want_racks) << "partition " << p;
  }
}

void ExpectBalanced(const Directory& d, const std::vector<PlannerNode>& nodes,
                    const std::set<std::string>& gone = {}) {
  auto counts = Counts(d);
  double total = 0;
  int live = 0;
  for (const PlannerNode& n : nodes) {
    if (gone.count(n.id)) continue;
    total += counts[n.id];
    ++live;
  }
  const double mean = total / live;
  for (const PlannerNode& n : nodes) {
    if (gone.count(n.id)) continue;
    EXPECT_LE(std::abs(counts[n.id] - mean), 1.0)
        << n.id << " holds " << counts[n.id] << ", mean " << mean;
  }
}

struct Shape {
  std::vector<int> initial;  // nodes per rack at formation
  std::vector<int> added;    // nodes per rack added later
  uint32_t partitions;
};

class RebalanceShapes : public ::testing::TestWithParam<Shape> {};

TEST_P(RebalanceShapes, NewNodesGetPartitionsWithNearMinimalMoves) {
  const Shape& shape = GetParam();
  std::vector<PlannerNode> nodes = MakeNodes(shape.initial);
  Directory d = Form(nodes, shape.partitions, 3);
  EXPECT_TRUE(PlanMoves(d, nodes).empty()) << "a fresh directory is balanced";
  AddNodes(&d, &nodes, MakeNodes(shape.added, "new"));
  const uint64_t minimal = MinimalRebalanceMoves(d, nodes);
  EXPECT_GT(minimal, 0u);
  const size_t moves = Settle(&d, nodes);
  ExpectPlacementHolds(d, nodes);
  // Equal racks allow a balance within one of the mean.
  std::set<int> per_rack;
  for (size_t r = 0; r < shape.initial.size(); ++r) {
    per_rack.insert(shape.initial[r] + (r < shape.added.size() ? shape.added[r] : 0));
  }
  if (per_rack.size() == 1) ExpectBalanced(d, nodes);
  EXPECT_LE(moves, static_cast<size_t>(minimal * 1.1) + 1)
      << "moves " << moves << ", minimal " << minimal;
  std::printf("%zu nodes -> %zu nodes, P=%u: %zu moves, minimal %llu\n",
              nodes.size() - [&] {
                size_t added = 0;
                for (int n : shape.added) added += n;
                return added;
              }(),
              nodes.size(), shape.partitions, moves,
              static_cast<unsigned long long>(minimal));
  EXPECT_TRUE(PlanMoves(d, nodes).empty());
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, RebalanceShapes,
    ::testing::Values(Shape{{1, 1, 1}, {1, 1, 1}, 64},    // 3 -> 6
                      Shape{{1, 1, 1}, {1, 1, 1}, 16},
                      Shape{{2, 2, 2}, {1, 1, 1}, 64},    // 6 -> 9
                      Shape{{1, 1, 1, 1}, {1, 1, 1, 1}, 128},
                      Shape{{2, 2, 2}, {2, 2, 2}, 256},
                      Shape{{3, 3, 3}, {1, 0, 0}, 64},    // uneven racks
                      Shape{{1, 1, 1}, {3, 0, 0}, 64}));

TEST(MovePlannerTest, DeadNodeIsReplacedOnItsRackOnly) {
  std::vector<PlannerNode> nodes = MakeNodes({2, 2, 2});
  Directory d = Form(nodes, 64, 3);
  nodes[0].health = Health::kDead;  // n0-0 on r0
  const std::vector<PlannedMove> plan = PlanMoves(d, nodes);
  EXPECT_EQ(plan.size(), static_cast<size_t>(Counts(d)[nodes[0].id]));
  for (const PlannedMove& m : plan) {
    EXPECT_EQ(m.from, nodes[0].id);
    EXPECT_EQ(m.to, nodes[1].id) << "the only other node on r0";
    EXPECT_EQ(m.reason, MOVE_REPLACE);
  }
  Settle(&d, nodes);
  ExpectPlacementHolds(d, nodes, {nodes[0].id});
}

TEST(MovePlannerTest, BrieflyDownNodeIsNotReplacedAndBlocksRebalance) {
  std::vector<PlannerNode> nodes = MakeNodes({1, 1, 1});
  Directory d = Form(nodes, 32, 3);
  AddNodes(&d, &nodes, MakeNodes({1, 1, 1}, "new"));
  nodes[0].health = Health::kDown;
  EXPECT_TRUE(PlanMoves(d, nodes).empty());
}

TEST(MovePlannerTest, MostUnderReplicatedPartitionsComeFirst) {
  std::vector<PlannerNode> nodes = MakeNodes({2, 2, 2});
  Directory d = Form(nodes, 64, 3);
  // Two dead nodes on two racks: partitions that had both lost two replicas.
  nodes[0].health = Health::kDead;
  nodes[2].health = Health::kDead;
  const std::vector<PlannedMove> plan = PlanMoves(d, nodes);
  auto lost = [&](uint32_t p) {
    int n = 0;
    for (const auto& id : d.assignments(p).node_ids()) {
      n += id == nodes[0].id || id == nodes[2].id;
    }
    return n;
  };
  ASSERT_FALSE(plan.empty());
  bool seen_single = false;
  for (const PlannedMove& m : plan) {
    if (lost(m.partition) == 1) seen_single = true;
    if (lost(m.partition) == 2) {
      EXPECT_FALSE(seen_single) << "partition " << m.partition
                                << " lost two replicas but comes late";
    }
  }
  Settle(&d, nodes);
  ExpectPlacementHolds(d, nodes, {nodes[0].id, nodes[2].id});
}

TEST(MovePlannerTest, DecommissionMovesEverythingOffAndKeepsRacks) {
  std::vector<PlannerNode> nodes = MakeNodes({2, 2, 2});
  Directory d = Form(nodes, 64, 3);
  nodes[3].decommissioning = true;
  const std::vector<PlannedMove> plan = PlanMoves(d, nodes);
  EXPECT_EQ(plan.size(), static_cast<size_t>(Counts(d)[nodes[3].id]));
  for (const PlannedMove& m : plan) {
    EXPECT_EQ(m.from, nodes[3].id);
    EXPECT_EQ(m.reason, MOVE_DECOMMISSION);
  }
  Settle(&d, nodes);
  ExpectPlacementHolds(d, nodes, {nodes[3].id});
  EXPECT_EQ(Counts(d)[nodes[3].id], 0);
}

TEST(MovePlannerTest, FewerRacksThanReplicasUseDistinctNodes) {
  std::vector<PlannerNode> nodes = MakeNodes({2, 2});
  Directory d = Form(nodes, 32, 3);
  AddNodes(&d, &nodes, MakeNodes({1, 1}, "new"));
  Settle(&d, nodes);
  ExpectPlacementHolds(d, nodes);
  ExpectBalanced(d, nodes);
}

TEST(MovePlannerTest, MovesInFlightAreNotPlannedTwice) {
  std::vector<PlannerNode> nodes = MakeNodes({1, 1, 1});
  Directory d = Form(nodes, 16, 3);
  AddNodes(&d, &nodes, MakeNodes({1, 1, 1}, "new"));
  const std::vector<PlannedMove> plan = PlanMoves(d, nodes);
  ASSERT_GE(plan.size(), 2u);
  // Start the first two moves as the tracker does.
  for (int i = 0; i < 2; ++i) {
    *d.mutable_assignments(plan[i].partition)->add_joining_ids() = plan[i].to;
    Move* move = d.add_moves();
    move->set_partition(plan[i].partition);
    move->set_from_node(plan[i].from);
    move->set_to_node(plan[i].to);
    move->set_epoch(2);
  }
  const std::vector<PlannedMove> again = PlanMoves(d, nodes);
  EXPECT_EQ(again.size(), plan.size() - 2);
  for (const PlannedMove& m : again) {
    EXPECT_NE(m.partition, plan[0].partition);
    EXPECT_NE(m.partition, plan[1].partition);
  }
}

// Docs/moves.md, misplaced replicas: a rack's only live node is briefly
// down while another node of that rack is replaced, so the replacements go
// to racks the partitions already use. Once the node is back, every such
// partition gets one replica back onto its rack.
TEST(MovePlannerTest, RackSpreadIsRestoredOnceTheRackIsBack) {
  std::vector<PlannerNode> nodes = MakeNodes({2, 2, 2});
  Directory d = Form(nodes, 64, 3);
  PlannerNode& dead = nodes[4];      // n2-0, for good
  PlannerNode& briefly = nodes[5];   // n2-1, back soon
  dead.health = Health::kDead;
  briefly.health = Health::kDown;
  Settle(&d, nodes);
  // Two racks can take partitions now: spread over two is what they allow.
  EXPECT_EQ(CountMisplaced(d, nodes), 0u);
  const int on_two_racks = [&] {
    int n = 0;
    for (const auto& a : d.assignments()) {
      std::set<std::string> racks;
      for (const auto& id : a.node_ids()) racks.insert(id.substr(1, 1));
      n += racks.size() < 3;
    }
    return n;
  }();
  ASSERT_GT(on_two_racks, 0) << "the repairs should have used two racks";

  briefly.health = Health::kUp;
  EXPECT_EQ(CountMisplaced(d, nodes), static_cast<uint32_t>(on_two_racks));
  const std::vector<PlannedMove> plan = PlanMoves(d, nodes);
  EXPECT_EQ(plan.size(), static_cast<size_t>(on_two_racks));
  for (const PlannedMove& m : plan) {
    EXPECT_EQ(m.reason, MOVE_SPREAD);
    EXPECT_EQ(m.to, briefly.id) << "the only live node of the missing rack";
  }
  Settle(&d, nodes);
  ExpectPlacementHolds(d, nodes, {dead.id});
  EXPECT_EQ(CountMisplaced(d, nodes), 0u);
  EXPECT_TRUE(PlanMoves(d, nodes).empty());
}

// The same over many shapes: whichever rack was away while one of its
// nodes was replaced, once it is back nothing stays misplaced, and
// placement holds.
TEST(MovePlannerTest, NoShapeStaysMisplaced) {
  const std::vector<std::vector<int>> shapes = {
      {2, 2, 2}, {3, 3, 3}, {2, 2, 2, 2}, {3, 2, 2}, {2, 3, 1}, {4, 2, 2, 1}};
  for (const std::vector<int>& shape : shapes) {
    for (size_t rack = 0; rack < shape.size(); ++rack) {
      if (shape[rack] < 2) continue;
      std::vector<PlannerNode> nodes = MakeNodes(shape);
      Directory d = Form(nodes, 96, 3);
      SCOPED_TRACE(::testing::Message() << "shape of " << shape.size()
                                        << " racks, rack " << rack);
      std::vector<PlannerNode*> on_rack;
      for (PlannerNode& n : nodes) {
        if (n.rack == absl::StrCat("r", rack)) on_rack.push_back(&n);
      }
      on_rack[0]->health = Health::kDead;
      for (size_t i = 1; i < on_rack.size(); ++i) {
        on_rack[i]->health = Health::kDown;
      }
      Settle(&d, nodes);
      for (size_t i = 1; i < on_rack.size(); ++i) {
        on_rack[i]->health = Health::kUp;
      }
      Settle(&d, nodes);
      ExpectPlacementHolds(d, nodes, {on_rack[0]->id});
      EXPECT_EQ(CountMisplaced(d, nodes), 0u);
    }
  }
}

TEST(MovePlannerTest, AvoidedNodesReceiveNothing) {
  std::vector<PlannerNode> nodes = MakeNodes({1, 1, 1});
  Directory d = Form(nodes, 16, 3);
  AddNodes(&d, &nodes, MakeNodes({1, 1, 1}, "new"));
  nodes[3].avoid = true;
  for (const PlannedMove& m : PlanMoves(d, nodes)) EXPECT_NE(m.to, nodes[3].id);
}

}  // namespace
}  // namespace quorumkv
