// The anti-entropy scheduler (master/anti_entropy_scheduler.h) without a
// cluster: partitions that may have diverged are compared first, whatever
// their last comparison, until a pass handed out after the last mark is
// complete; the others wait for the interval.
#include "master/anti_entropy_scheduler.h"

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace quorumkv {
namespace {

// Three nodes holding every one of `partitions` partitions.
DirectoryView ThreeReplicas(uint32_t partitions) {
  Directory d;
  d.set_partitions(partitions);
  d.set_replication(3);
  for (const char* id : {"a", "b", "c"}) {
    NodeDescriptor* node = d.add_nodes();
    node->set_id(id);
  }
  for (uint32_t p = 0; p < partitions; ++p) {
    PartitionReplicas* replicas = d.add_assignments();
    for (const char* id : {"a", "b", "c"}) replicas->add_node_ids(id);
  }
  return DirectoryView(d);
}

class Node {
 public:
  explicit Node(std::string id) : id_(std::move(id)) {}
  // A heartbeat that reports the last pass (if any) and maybe diverged
  // partitions; returns the partition handed out, or -1.
  int Heartbeat(AntiEntropyScheduler& scheduler, const DirectoryView& directory,
                absl::Time now, std::vector<uint32_t> diverged = {},
                absl::flat_hash_set<std::string> down = {}) {
    HeartbeatRequest request;
    request.set_node_id(id_);
    *request.mutable_anti_entropy() = last_;
    *request.mutable_repaired_known() = cursor_;
    for (uint32_t p : diverged) request.add_diverged_partitions(p);
    HeartbeatResponse response;
    scheduler.OnHeartbeat(request, directory, down, now, &response);
    last_repaired_ = response.repaired_size();
    for (const PartitionRepaired& r : response.repaired()) {
      repaired_before_ms_[r.partition()] = r.repaired_before_ms();
    }
    cursor_ = response.repaired_cursor();
    return response.has_anti_entropy()
               ? static_cast<int>(response.anti_entropy().partition())
               : -1;
  }
  // The pass of `partition` ends (it reports it with its next heartbeat).
  void Complete(uint32_t partition, absl::Time started, bool complete = true) {
    last_.set_partition(partition);
    last_.set_started_ms(absl::ToUnixMillis(started));
    last_.set_complete(complete);
    last_.set_sequence(++sequence_);
  }
  // How many repaired partitions the last answer listed.
  int last_repaired() const { return last_repaired_; }
  // What the node holds of each partition's repair, from every answer.
  const std::map<uint32_t, int64_t>& repaired_before_ms() const {
    return repaired_before_ms_;
  }

 private:
  const std::string id_;
  AntiEntropyReport last_;
  uint64_t sequence_ = 0;
  RepairedCursor cursor_;
  int last_repaired_ = 0;
  std::map<uint32_t, int64_t> repaired_before_ms_;
};

// A scheduler with the default 10 min interval over `partitions`
// partitions held by a, b and c, each compared once by a.
struct ComparedOnce {
  explicit ComparedOnce(uint32_t partitions)
      : directory(ThreeReplicas(partitions)) {
    for (int i = 0; i < 100; ++i) {
      now += absl::Milliseconds(10);
      const int p = a.Heartbeat(scheduler, directory, now);
      if (p < 0) break;
      a.Complete(p, now);
    }
  }
  const DirectoryView directory;
  AntiEntropyScheduler scheduler{absl::Minutes(10), 0};
  Node a{"a"}, b{"b"};
  absl::Time now = absl::FromUnixSeconds(1000000);
};

TEST(AntiEntropySchedulerTest, DivergedPartitionsComeFirstWhateverTheInterval) {
  ComparedOnce c(8);
  auto& [directory, scheduler, a, b, now] = c;
  EXPECT_EQ(scheduler.Summarize(8, now).compared, 8u);
  // Within the interval nothing is due...
  now += absl::Seconds(1);
  EXPECT_EQ(a.Heartbeat(scheduler, directory, now), -1);
  // ...but what a coordinator reports as diverged is, oldest mark first.
  EXPECT_EQ(b.Heartbeat(scheduler, directory, now, {5}), 5);
  now += absl::Milliseconds(10);
  scheduler.MarkDiverged(2, now);  // a move of partition 2 was cancelled
  EXPECT_EQ(scheduler.Summarize(8, now).diverged, 2u);
  EXPECT_EQ(a.Heartbeat(scheduler, directory, now), 2);
  // Partition 5's pass fails (a replica stopped answering): tried again
  // after a short pause, not after the interval.
  b.Complete(5, now, /*complete=*/false);
  now += absl::Milliseconds(10);
  EXPECT_EQ(b.Heartbeat(scheduler, directory, now), -1);
  now += AntiEntropyScheduler::kDivergedRetryAfter;
  EXPECT_EQ(b.Heartbeat(scheduler, directory, now), 5);
  b.Complete(5, now);
  a.Complete(2, now);
  now += absl::Milliseconds(10);
  b.Heartbeat(scheduler, directory, now);
  a.Heartbeat(scheduler, directory, now);
  EXPECT_EQ(scheduler.Summarize(8, now).diverged, 0u);
}

TEST(AntiEntropySchedulerTest, AMarkDuringAPassNeedsAnotherPass) {
  ComparedOnce c(4);
  auto& [directory, scheduler, a, b, now] = c;
  EXPECT_EQ(b.Heartbeat(scheduler, directory, now, {3}), 3);
  const absl::Time started = now;
  // While it runs, another write to partition 3 loses its hint.
  now += absl::Milliseconds(10);
  EXPECT_EQ(a.Heartbeat(scheduler, directory, now, {3}), -1);  // b has it
  b.Complete(3, started);
  now += absl::Milliseconds(10);
  // The pass began before that write: partition 3 is compared again.
  EXPECT_EQ(b.Heartbeat(scheduler, directory, now), 3);
  b.Complete(3, now);
  now += absl::Milliseconds(10);
  EXPECT_EQ(b.Heartbeat(scheduler, directory, now), -1);
  EXPECT_EQ(scheduler.Summarize(4, now).diverged, 0u);
}

TEST(AntiEntropySchedulerTest, DivergedPartitionsWaitForEveryReplicaUp) {
  ComparedOnce c(4);
  auto& [directory, scheduler, a, b, now] = c;
  EXPECT_EQ(a.Heartbeat(scheduler, directory, now, {1}, {"c"}), -1);
  now += absl::Milliseconds(10);
  EXPECT_EQ(a.Heartbeat(scheduler, directory, now, {}, {}), 1);
}

// Two passes that start within one millisecond are each applied.
TEST(AntiEntropySchedulerTest, PassesStartedInTheSameMillisecondBothCount) {
  const DirectoryView directory = ThreeReplicas(2);
  AntiEntropyScheduler scheduler(absl::Minutes(10), 0);
  Node a("a");
  const absl::Time now = absl::FromUnixSeconds(1000000);
  EXPECT_EQ(a.Heartbeat(scheduler, directory, now), 0);
  a.Complete(0, now);
  EXPECT_EQ(a.Heartbeat(scheduler, directory, now), 1);
  a.Complete(1, now);  // same started_ms
  EXPECT_EQ(a.Heartbeat(scheduler, directory, now), -1);
  EXPECT_EQ(scheduler.Summarize(2, now).compared, 2u);
}

// Each heartbeat answer lists the partitions repaired since what the node
// last applied, not every one: at 65 536 partitions the whole list every
// second would be most of what the master sends.
TEST(AntiEntropySchedulerTest, RepairedPartitionsReachEachNodeOnce) {
  ComparedOnce c(8);
  EXPECT_EQ(c.a.repaired_before_ms().size(), 8u);
  c.now += absl::Seconds(1);
  c.a.Heartbeat(c.scheduler, c.directory, c.now);
  EXPECT_EQ(c.a.last_repaired(), 0);
  // A node that has applied nothing yet gets every one.
  c.b.Heartbeat(c.scheduler, c.directory, c.now);
  EXPECT_EQ(c.b.last_repaired(), 8);
  EXPECT_EQ(c.b.repaired_before_ms(), c.a.repaired_before_ms());
  c.b.Heartbeat(c.scheduler, c.directory, c.now);
  EXPECT_EQ(c.b.last_repaired(), 0);

  // A partition diverges and b compares it again: both nodes then hear of
  // that one partition, once.
  c.now += absl::Seconds(1);
  const int p = c.b.Heartbeat(c.scheduler, c.directory, c.now, {5});
  ASSERT_EQ(p, 5);
  c.b.Complete(5, c.now);
  c.now += absl::Seconds(1);
  c.b.Heartbeat(c.scheduler, c.directory, c.now);
  EXPECT_EQ(c.b.last_repaired(), 1);
  EXPECT_EQ(c.b.repaired_before_ms().at(5), absl::ToUnixMillis(c.now) - 1000);
  c.a.Heartbeat(c.scheduler, c.directory, c.now);
  EXPECT_EQ(c.a.last_repaired(), 1);
  EXPECT_EQ(c.a.repaired_before_ms(), c.b.repaired_before_ms());

  // Another master (a new leader) has another list: the whole list again.
  AntiEntropyScheduler next(absl::Minutes(10), 0);
  next.Import(c.scheduler.Export());
  c.a.Heartbeat(next, c.directory, c.now);
  EXPECT_EQ(c.a.last_repaired(), 8);
  c.a.Heartbeat(next, c.directory, c.now);
  EXPECT_EQ(c.a.last_repaired(), 0);
}

}  // namespace
}  // namespace quorumkv

namespace quorumkv {
namespace {

// A node that restarts lost the pass it was given: the partition is handed
// out again at once, not after the task timeout.
TEST(AntiEntropySchedulerTest, APassOfANodeThatRestartedIsHandedOutAgain) {
  const DirectoryView directory = ThreeReplicas(1);
  AntiEntropyScheduler scheduler{absl::Minutes(10), 0};
  absl::Time now = absl::FromUnixSeconds(1000000);
  Node a{"a"}, b{"b"};
  ASSERT_EQ(a.Heartbeat(scheduler, directory, now, {0}), 0);
  // a dies with the pass; b asks and gets nothing while a holds it.
  now += absl::Seconds(2);
  EXPECT_EQ(b.Heartbeat(scheduler, directory, now, {0}), -1);
  scheduler.OnRegistered("a");
  now += absl::Seconds(1);
  EXPECT_EQ(b.Heartbeat(scheduler, directory, now), 0);
}

}  // namespace
}  // namespace quorumkv
