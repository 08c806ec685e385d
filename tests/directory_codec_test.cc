#include "common/directory_codec.h"

#include <algorithm>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "proto/master.grpc.pb.h"
#include "tests/mini_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

using google::protobuf::util::MessageDifferencer;

// A directory of `nodes` nodes over `partitions` partitions, `replication`
// distinct replicas each (and now and then a joining one), drawn by `rng`.
Directory RandomDirectory(std::mt19937* rng, int nodes, uint32_t partitions,
                          uint32_t replication, uint64_t epoch) {
  Directory d;
  d.set_epoch(epoch);
  d.set_partitions(partitions);
  d.set_replication(replication);
  d.set_cluster_id("c-1");
  d.set_term(7);
  for (int i = 0; i < nodes; ++i) {
    NodeDescriptor* node = d.add_nodes();
    node->set_id(absl::StrCat("node-", i));
    node->set_address(absl::StrCat("127.0.0.1:", 7100 + i));
    node->set_rack(absl::StrCat("r", i % 3));
  }
  std::uniform_int_distribution<int> pick(0, nodes - 1);
  for (uint32_t p = 0; p < partitions; ++p) {
    PartitionReplicas* replicas = d.add_assignments();
    const int first = pick(*rng);
    for (uint32_t r = 0; r < replication; ++r) {
      replicas->add_node_ids(absl::StrCat("node-", (first + r) % nodes));
    }
    if ((*rng)() % 10 == 0) {
      replicas->add_joining_ids(
          absl::StrCat("node-", (first + replication) % nodes));
    }
  }
  d.add_decommissioning("node-0");
  return d;
}

// `d` at the next epoch with `changes` partitions given other replicas.
Directory Changed(std::mt19937* rng, const Directory& d, int changes) {
  Directory next = d;
  next.set_epoch(d.epoch() + 1);
  std::uniform_int_distribution<uint32_t> partition(0, d.partitions() - 1);
  for (int i = 0; i < changes; ++i) {
    PartitionReplicas* replicas = next.mutable_assignments(partition(*rng));
    std::string first = replicas->node_ids(0);
    replicas->mutable_node_ids()->erase(replicas->node_ids().begin());
    replicas->add_node_ids(first);  // same replicas, a new leader
  }
  return next;
}

void ExpectEqual(const Directory& want, const Directory& got) {
  EXPECT_TRUE(MessageDifferencer::Equals(want, got))
      << "want epoch " << want.epoch() << ", got " << got.DebugString();
}

TEST(DirectoryCodecTest, CompactAndExpandAreExactOverManyShapes) {
  std::mt19937 rng(1);
  for (int nodes : {1, 3, 7, 40}) {
    for (uint32_t partitions : {1u, 16u, 1000u}) {
      for (uint32_t replication : {1u, 3u}) {
        if (replication > static_cast<uint32_t>(nodes)) continue;
        SCOPED_TRACE(absl::StrCat(nodes, " nodes, P=", partitions,
                                  ", N=", replication));
        const Directory d =
            RandomDirectory(&rng, nodes, partitions, replication, 5);
        absl::StatusOr<Directory> back = Expand(Compact(d));
        ASSERT_OK(back.status());
        ExpectEqual(d, *back);
        // Every node is named once: the compact form is the smaller.
        if (nodes > 1 && partitions >= 16) {
          EXPECT_LT(Compact(d).ByteSizeLong(), d.ByteSizeLong());
        }
      }
    }
  }
}

TEST(DirectoryCodecTest, ExpandNamesAPartitionWhoseIndexNamesNoNode) {
  std::mt19937 rng(2);
  CompactDirectory compact = Compact(RandomDirectory(&rng, 3, 8, 3, 2));
  compact.set_replicas(5 * 3 + 1, 9);  // partition 5's second replica
  absl::StatusOr<Directory> expanded = Expand(compact);
  EXPECT_EQ(expanded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(expanded.status().message().find("partition 5"), std::string::npos)
      << expanded.status();
}

TEST(DirectoryCodecTest, ExpandRefusesListsThatDoNotAddUp) {
  std::mt19937 rng(8);
  const CompactDirectory good = Compact(RandomDirectory(&rng, 4, 8, 3, 2));
  CompactDirectory truncated = good;
  truncated.mutable_replicas()->RemoveLast();
  absl::StatusOr<Directory> expanded = Expand(truncated);
  EXPECT_EQ(expanded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(expanded.status().message().find("partition 7"), std::string::npos)
      << expanded.status();

  CompactDirectory joining = good;
  joining.add_joining_at(3);  // without its node
  EXPECT_EQ(Expand(joining).status().code(), absl::StatusCode::kDataLoss);
  joining.add_joining(1);
  ASSERT_OK(Expand(joining).status());
  EXPECT_EQ(Expand(joining)->assignments(3).joining_ids_size(),
            good.joining_at_size() > 0 &&
                    std::count(good.joining_at().begin(),
                               good.joining_at().end(), 3u) > 0
                ? 2
                : 1);
  joining.add_joining_at(8);  // beyond the directory
  joining.add_joining(1);
  expanded = Expand(joining);
  EXPECT_EQ(expanded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(expanded.status().message().find("partition 8"), std::string::npos)
      << expanded.status();
}

TEST(DirectoryCodecTest, AnUpdateCarriesOnlyTheChangedPartitions) {
  std::mt19937 rng(3);
  for (int changes : {0, 1, 10, 300}) {
    SCOPED_TRACE(absl::StrCat(changes, " changes"));
    const Directory before = RandomDirectory(&rng, 12, 4096, 3, 10);
    const Directory after = Changed(&rng, before, changes);
    const DirectoryUpdate update = MakeUpdate(&before, after);
    ASSERT_TRUE(update.has_delta());
    EXPECT_EQ(update.delta().from_epoch(), before.epoch());
    EXPECT_TRUE(update.delta().same_nodes());  // not sent again
    EXPECT_EQ(update.delta().directory().nodes_size(), 0);
    EXPECT_LE(update.delta().changed_size(), changes);
    int differ = 0;
    for (uint32_t p = 0; p < before.partitions(); ++p) {
      differ += !MessageDifferencer::Equals(before.assignments(p),
                                            after.assignments(p));
    }
    EXPECT_EQ(update.delta().changed_size(), differ);
    absl::StatusOr<Directory> applied = ApplyUpdate(before, update);
    ASSERT_OK(applied.status());
    ExpectEqual(after, *applied);
    if (changes <= 10) {
      EXPECT_LT(update.ByteSizeLong() * 20, Compact(after).ByteSizeLong());
    }
  }
}

TEST(DirectoryCodecTest, AnUpdateCarriesNewNodesAndFieldsBesidesPartitions) {
  std::mt19937 rng(4);
  const Directory before = RandomDirectory(&rng, 4, 64, 3, 3);
  Directory after = Changed(&rng, before, 2);
  NodeDescriptor* joined = after.add_nodes();
  joined->set_id("node-new");
  joined->set_address("127.0.0.1:7999");
  joined->set_rack("r9");
  after.mutable_assignments(17)->add_joining_ids("node-new");
  Move* move = after.add_moves();
  move->set_partition(17);
  after.clear_decommissioning();
  after.add_removed("node-0");
  after.set_term(8);
  const DirectoryUpdate update = MakeUpdate(&before, after);
  EXPECT_FALSE(update.delta().same_nodes());
  absl::StatusOr<Directory> applied = ApplyUpdate(before, update);
  ASSERT_OK(applied.status());
  ExpectEqual(after, *applied);
}

TEST(DirectoryCodecTest, WithoutAnOlderEpochOfTheSameShapeTheUpdateIsWhole) {
  std::mt19937 rng(5);
  const Directory d = RandomDirectory(&rng, 5, 32, 3, 4);
  EXPECT_TRUE(MakeUpdate(nullptr, d).has_full());
  EXPECT_TRUE(MakeUpdate(&d, d).has_full());  // nothing older to start from
  const Directory unformed;
  EXPECT_TRUE(MakeUpdate(&unformed, d).has_full());
  const Directory other_shape = RandomDirectory(&rng, 5, 16, 3, 2);
  EXPECT_TRUE(MakeUpdate(&other_shape, d).has_full());
  for (const Directory* held : {&unformed, &other_shape, &d}) {
    absl::StatusOr<Directory> applied =
        ApplyUpdate(*held, MakeUpdate(nullptr, d));
    ASSERT_OK(applied.status());
    ExpectEqual(d, *applied);
  }
}

TEST(DirectoryCodecTest, ADeltaThatDoesNotFitIsRefused) {
  std::mt19937 rng(6);
  const Directory before = RandomDirectory(&rng, 5, 32, 3, 4);
  const Directory after = Changed(&rng, before, 3);
  const DirectoryUpdate update = MakeUpdate(&before, after);
  ASSERT_TRUE(update.has_delta());

  // From another epoch than the one held.
  Directory elsewhere = before;
  elsewhere.set_epoch(3);
  EXPECT_EQ(ApplyUpdate(elsewhere, update).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Of another cluster.
  Directory other_cluster = before;
  other_cluster.set_cluster_id("c-2");
  EXPECT_EQ(ApplyUpdate(other_cluster, update).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // A partition beyond the directory.
  DirectoryUpdate beyond = update;
  beyond.mutable_delta()->set_changed(0, 32);
  absl::StatusOr<Directory> applied = ApplyUpdate(before, beyond);
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(applied.status().message().find("partition 32"), std::string::npos)
      << applied.status();

  // Lists more partitions than it carries.
  DirectoryUpdate short_one = update;
  short_one.mutable_delta()->add_changed(1);
  EXPECT_EQ(ApplyUpdate(before, short_one).status().code(),
            absl::StatusCode::kDataLoss);

  EXPECT_EQ(ApplyUpdate(before, DirectoryUpdate()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Both answers a master gives: the update for callers that ask `compact`,
// the whole directory for older ones.
TEST(DirectoryCodecTest, DirectoryInReadsEitherAnswer) {
  std::mt19937 rng(7);
  const Directory before = RandomDirectory(&rng, 5, 32, 3, 4);
  const Directory after = Changed(&rng, before, 3);
  GetDirectoryResponse compact;
  *compact.mutable_update() = MakeUpdate(&before, after);
  absl::StatusOr<Directory> read = DirectoryIn(before, compact);
  ASSERT_OK(read.status());
  ExpectEqual(after, *read);
  WatchDirectoryResponse whole;
  *whole.mutable_directory() = after;
  read = DirectoryIn(Directory(), whole);
  ASSERT_OK(read.status());
  ExpectEqual(after, *read);
}

// Through a real master: a caller that holds an epoch is sent the
// partitions that changed since, by GetDirectory and by WatchDirectory; one
// that holds nothing, or an epoch the master no longer keeps, the whole
// directory; one that does not ask `compact`, the directory as before.
TEST(DirectoryUpdateTest, TheMasterSendsTheChangesSinceTheCallersEpoch) {
  SetMinLogSeverity(LogSeverity::WARNING);
  MiniClusterOptions options;
  options.partitions = 64;
  MiniCluster cluster(options);
  ASSERT_OK(cluster.Start());
  auto stub = MasterService::NewStub(grpc::CreateChannel(
      cluster.master_address(), grpc::InsecureChannelCredentials()));
  auto get = [&](uint64_t known_epoch, bool compact) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    GetDirectoryRequest request;
    request.set_known_epoch(known_epoch);
    request.set_compact(compact);
    GetDirectoryResponse response;
    EXPECT_TRUE(stub->GetDirectory(&context, request, &response).ok());
    return response;
  };
  const GetDirectoryResponse first = get(0, true);
  ASSERT_TRUE(first.update().has_full());
  absl::StatusOr<Directory> before = DirectoryIn(Directory(), first);
  ASSERT_OK(before.status());
  ExpectEqual(cluster.master()->directory()->proto(), *before);

  // A fourth node joins: the planner moves some partitions to it.
  absl::StatusOr<int> added = cluster.AddNode("r1");
  ASSERT_OK(added.status());
  // Registering alone changes the directory too (a new node, no
  // partitions): wait for the planner's moves to it.
  const std::string new_id = cluster.node(*added)->id();
  ASSERT_EVENTUALLY(
      cluster.master()->directory()->PartitionsHeldBy(new_id) > 0,
      absl::Seconds(20));
  const GetDirectoryResponse changes = get(before->epoch(), true);
  ASSERT_TRUE(changes.update().has_delta()) << changes.ShortDebugString();
  EXPECT_LT(changes.update().delta().changed_size(), 64);
  EXPECT_GT(changes.update().delta().changed_size(), 0);
  absl::StatusOr<Directory> after = DirectoryIn(*before, changes);
  ASSERT_OK(after.status());
  const GetDirectoryResponse whole = get(before->epoch(), false);
  ASSERT_TRUE(whole.has_directory());
  EXPECT_FALSE(whole.has_update());
  // The master may have moved on between the two calls; compare like with
  // like.
  if (whole.directory().epoch() == after->epoch()) {
    ExpectEqual(whole.directory(), *after);
  }
  EXPECT_EQ(changes.states_size(), after->nodes_size());

  // An epoch the master never published: the whole directory.
  EXPECT_TRUE(get(before->epoch() + 1000, true).update().has_full());

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  WatchDirectoryRequest watch;
  watch.set_known_epoch(before->epoch());
  watch.set_compact(true);
  WatchDirectoryResponse watched;
  ASSERT_TRUE(stub->WatchDirectory(&context, watch, &watched).ok());
  ASSERT_TRUE(watched.update().has_delta());
  absl::StatusOr<Directory> watched_directory = DirectoryIn(*before, watched);
  ASSERT_OK(watched_directory.status());
  EXPECT_GE(watched_directory->epoch(), after->epoch());
  EXPECT_EQ(watched_directory->nodes_size(), 4);
}

}  // namespace
}  // namespace quorumkv
