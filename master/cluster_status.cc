#include "master/cluster_status.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/time/clock.h"

namespace quorumkv {

ClusterStatusReporter::ClusterStatusReporter(
    const Leadership* leadership,
    const Membership* membership, const DirectoryManager* directory,
    const MoveTracker* moves, const AntiEntropyScheduler* anti_entropy,
    absl::Duration node_down_after, absl::Duration replace_after)
    : leadership_(leadership),
      membership_(membership),
      directory_(directory),
      moves_(moves),
      anti_entropy_(anti_entropy),
      node_down_after_(node_down_after),
      replace_after_(replace_after) {}

namespace {

// The cluster's hottest keys and partitions: each node reports those it
// coordinated; a key or partition coordinated by several nodes is summed.
void AddHottest(const DirectoryView& directory, const std::vector<Member>& members,
                ClusterStatusResponse* response) {
  constexpr size_t kShown = 10;
  absl::flat_hash_map<std::string, HotKey> keys;
  absl::flat_hash_map<uint32_t, HotPartition> partitions;
  for (const Member& member : members) {
    if (member.state != UP) continue;
    for (const HotKey& k : member.load.hot_keys()) {
      HotKey& sum = keys[k.key()];
      sum.set_key(k.key());
      sum.set_partition(k.partition());
      sum.set_reads_per_sec(sum.reads_per_sec() + k.reads_per_sec());
      sum.set_writes_per_sec(sum.writes_per_sec() + k.writes_per_sec());
    }
    for (const PartitionLoad& p : member.load.partitions()) {
      if (p.reads_per_sec() == 0 && p.writes_per_sec() == 0) continue;
      HotPartition& sum = partitions[p.partition()];
      sum.set_partition(p.partition());
      sum.set_reads_per_sec(sum.reads_per_sec() + p.reads_per_sec());
      sum.set_writes_per_sec(sum.writes_per_sec() + p.writes_per_sec());
    }
  }
  auto hotter = [](const auto& a, const auto& b) {
    return a.reads_per_sec() + a.writes_per_sec() > b.reads_per_sec() + b.writes_per_sec();
  };
  std::vector<HotKey> hot_keys;
  for (auto& [key, hot] : keys) hot_keys.push_back(std::move(hot));
  std::sort(hot_keys.begin(), hot_keys.end(), hotter);
  for (size_t i = 0; i < hot_keys.size() && i < kShown; ++i) {
    *response->add_hot_keys() = std::move(hot_keys[i]);
  }
  std::vector<HotPartition> hot_partitions;
  for (auto& [partition, hot] : partitions) hot_partitions.push_back(std::move(hot));
  std::sort(hot_partitions.begin(), hot_partitions.end(), hotter);
  for (size_t i = 0; i < hot_partitions.size() && i < kShown; ++i) {
    HotPartition* p = response->add_hot_partitions();
    *p = std::move(hot_partitions[i]);
    for (const std::string& id : directory.Replicas(p->partition())) {
      p->add_replicas(id);
    }
  }
}

}  // namespace

ClusterStatusResponse ClusterStatusReporter::Describe() const {
  ClusterStatusResponse response;
  DirectoryPtr directory = directory_->Get();
  response.set_epoch(directory->epoch());
  response.set_directory_formed(directory->formed());
  response.set_answered_by(leadership_->self());
  response.set_leader(leadership_->leader());
  response.set_term(leadership_->term());
  response.set_leader_problem(leadership_->problem());
  response.set_registered_nodes(membership_->registered_count());
  response.set_initial_nodes(directory_->initial_nodes());
  response.set_partitions(directory->partitions());
  response.set_replication(directory->replication());
  response.set_node_down_after_ms(absl::ToInt64Milliseconds(node_down_after_));
  response.set_replace_after_ms(absl::ToInt64Milliseconds(replace_after_));
  absl::flat_hash_map<std::string, uint32_t> partitions_per_node, joining;
  for (const PartitionReplicas& p : directory->proto().assignments()) {
    for (const std::string& id : p.node_ids()) ++partitions_per_node[id];
    for (const std::string& id : p.joining_ids()) ++joining[id];
  }
  const absl::Time now = absl::Now();
  const std::vector<Member> members = membership_->Snapshot(now);
  absl::flat_hash_set<std::string> up;
  for (const Member& member : members) {
    if (member.state == UP) up.insert(member.node.id());
  }
  uint32_t under_replicated = 0;
  for (uint32_t p = 0; p < static_cast<uint32_t>(
                               directory->proto().assignments_size());
       ++p) {
    uint32_t live = 0;
    for (const std::string& id : directory->Replicas(p)) live += up.contains(id);
    if (live < directory->replication()) {
      ++under_replicated;
      if (response.under_replicated_partitions_size() < 100) {
        response.add_under_replicated_partitions(p);
      }
    }
  }
  if (!directory->formed()) under_replicated = directory->partitions();
  response.set_under_replicated(under_replicated);
  response.set_misplaced(moves_->Misplaced());
  response.set_moves(directory->proto().moves_size());
  const AntiEntropyScheduler::Summary anti_entropy =
      anti_entropy_->Summarize(directory->partitions(), now);
  response.set_anti_entropy_compared(anti_entropy.compared);
  response.set_anti_entropy_rows_exchanged(anti_entropy.rows_exchanged);
  response.set_anti_entropy_bytes_exchanged(anti_entropy.bytes_exchanged);
  response.set_anti_entropy_diverged(anti_entropy.diverged);
  response.set_anti_entropy_oldest_ms(
      anti_entropy.oldest < absl::ZeroDuration()
          ? -1
          : absl::ToInt64Milliseconds(anti_entropy.oldest));
  AddHottest(*directory, members, &response);
  for (const Member& member : members) {
    NodeStatus* status = response.add_nodes();
    *status->mutable_node() = member.node;
    status->set_state(
        MoveTracker::ShownState(*directory, member.node.id(), member.state));
    status->set_joining(joining[member.node.id()]);
    status->set_capacity_bytes(member.capacity_bytes);
    *status->mutable_load() = member.load;
    status->set_partitions(partitions_per_node[member.node.id()]);
    status->set_directory_epoch(member.directory_epoch);
    status->set_last_heartbeat_ms_ago(
        member.last_heartbeat == absl::InfinitePast()
            ? -1
            : absl::ToInt64Milliseconds(now - member.last_heartbeat));
  }
    return response;
}

ListMovesResponse ClusterStatusReporter::Moves() const {
  ListMovesResponse response;
  response.set_epoch(directory_->Get()->epoch());
  for (MoveStatus& move : moves_->InFlight()) {
    *response.add_moves() = std::move(move);
  }
  for (MoveStatus& move : moves_->Recent()) {
    *response.add_recent() = std::move(move);
  }
  return response;
}

}  // namespace quorumkv
