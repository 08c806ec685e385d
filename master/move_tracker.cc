#include "master/move_tracker.h"

#include <algorithm>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/placement.h"

namespace quorumkv {
namespace {

// How long the destination of a cancelled move is not chosen again.

const Member* FindMember(const std::vector<Member>& members,
                         const std::string& id) {
  for (const Member& m : members) {
    if (m.node.id() == id) return &m;
  }
  return nullptr;
}

bool IsUp(const std::vector<Member>& members, const std::string& id) {
  const Member* m = FindMember(members, id);
  return m != nullptr && m->state == UP;
}

void EraseId(google::protobuf::RepeatedPtrField<std::string>* ids,
             const std::string& id) {
  auto it = std::find(ids->begin(), ids->end(), id);
  if (it != ids->end()) ids->erase(it);
}

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& ids,
              const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// Whether `id` is a full or joining replica of any partition.
bool HoldsAnything(const Directory& directory, const std::string& id) {
  for (const PartitionReplicas& p : directory.assignments()) {
    if (Contains(p.node_ids(), id) || Contains(p.joining_ids(), id)) {
      return true;
    }
  }
  return false;
}

}  // namespace

MoveTracker::MoveTracker(const MoveTrackerOptions& options,
                         DirectoryManager* directory,
                         const Membership* membership,
                         const Leadership* leadership)
    : options_(options),
      directory_(directory),
      membership_(membership),
      leadership_(leadership),
      task_([this] { return Tick(); }) {}

MoveTracker::~MoveTracker() { Stop(); }

void MoveTracker::Start() { task_.Start(); }
void MoveTracker::Stop() {
  task_.Stop();
  std::vector<PendingDecommission> unanswered;
  {
    absl::MutexLock lock(&mu_);
    unanswered.swap(decommissions_);
  }
  for (PendingDecommission& d : unanswered) {
    d.done(absl::UnavailableError("the master is stopping; decommission again"));
  }
}
void MoveTracker::Wake() { task_.Wake(); }

MoveTracker::Counters MoveTracker::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

NodeState MoveTracker::ShownState(const DirectoryView& directory,
                                  const std::string& id,
                                  NodeState heartbeat_state) {
  if (directory.IsRemoved(id)) return REMOVED;
  if (directory.IsDecommissioning(id)) return DECOMMISSIONING;
  return heartbeat_state;
}

std::vector<PlannerNode> MoveTracker::ClusterShape(
    const Directory& directory, const std::vector<Member>& members,
    absl::Time now) const {
  std::vector<PlannerNode> nodes;
  for (const NodeDescriptor& node : directory.nodes()) {
    PlannerNode n;
    n.id = node.id();
    n.rack = node.rack();
    const Member* m = FindMember(members, node.id());
    if (m != nullptr) n.free_bytes = m->load.free_bytes();
    if (m != nullptr && m->state == UP) {
      n.health = PlannerNode::Health::kUp;
    } else {
      // A node not heard from since this master started has been down at
      // most since then, as far as this master can tell.
      const absl::Time last =
          std::max(m == nullptr ? absl::InfinitePast() : m->last_heartbeat,
                   led_since_);
      n.health = now - last > options_.node_down_after + options_.replace_after
                     ? PlannerNode::Health::kDead
                     : PlannerNode::Health::kDown;
    }
    n.decommissioning = Contains(directory.decommissioning(), node.id());
    n.removed = Contains(directory.removed(), node.id());
    auto avoid = avoid_until_.find(node.id());
    n.avoid = avoid != avoid_until_.end() && avoid->second > now;
    nodes.push_back(std::move(n));
  }
  return nodes;
}

void MoveTracker::OnRegistered(const NodeDescriptor& node) {
  {
    absl::MutexLock lock(&mu_);
    registrations_.push_back(node);
  }
  Wake();
}

void MoveTracker::LogStateChanges(const std::vector<Member>& members,
                                  absl::Time now) {
  for (const Member& m : members) {
    if (m.last_heartbeat == absl::InfinitePast()) continue;  // never seen
    auto [it, first] = last_states_.try_emplace(m.node.id(), m.state);
    if (!first && it->second == m.state) continue;
    const NodeState before = first ? NODE_STATE_UNKNOWN : it->second;
    it->second = m.state;
    if (first && m.state == UP) continue;  // its registration was logged
    QKV_LOG(INFO)
        << "node " << m.node.id() << " (" << m.node.address() << ", rack "
        << m.node.rack() << ") is " << NodeState_Name(m.state)
        << (before == DOWN ? " again" : "") << "; last heartbeat "
        << absl::FormatDuration(absl::Trunc(now - m.last_heartbeat,
                                            absl::Milliseconds(100)))
        << " ago";
  }
}

absl::Duration MoveTracker::Tick() {
  const absl::Time now = absl::Now();
  std::vector<NodeDescriptor> registrations;
  std::vector<PendingDecommission> refused;
  {
    absl::MutexLock lock(&mu_);
    registrations.swap(registrations_);
    if (!leadership_->IsLeader()) {
      // A standby changes nothing; what a former leader had queued is for
      // the new leader to take (nodes register with it again).
      leading_ = false;
      refused.swap(decommissions_);
    } else if (!leading_) {
      // Leading from now on: judge no node before it could have
      // heartbeated to this master, and learn the moves' progress afresh.
      leading_ = true;
      led_since_ = now;
      progress_.clear();
      leaders_balanced_ = false;
    }
  }
  if (!refused.empty() || !leadership_->IsLeader()) {
    for (PendingDecommission& d : refused) {
      d.done(absl::UnavailableError(
          "this master no longer leads; ask the new leader"));
    }
    return options_.interval;
  }
  // Registrations happened before this snapshot: it includes them.
  const std::vector<Member> members = membership_->Snapshot(now);
  LogStateChanges(members, now);
  if (!registrations.empty()) {
    std::vector<PlacementCandidate> registered;
    for (const Member& m : members) {
      if (m.state == UP) {
        registered.push_back({m.node.id(), m.node.rack(), m.load.free_bytes()});
      }
    }
    for (const NodeDescriptor& node : registrations) {
      if (absl::Status s = directory_->OnRegistered(node, registered); !s.ok()) {
        QKV_LOG(ERROR) << "cannot record node " << node.id()
                       << " in the directory: " << s;
      }
    }
  }
  std::vector<PendingDecommission> decommissions;
  absl::Status status = directory_->Mutate(
      [&](Directory& next, uint64_t next_epoch) {
        absl::MutexLock lock(&mu_);
        decommissions.swap(decommissions_);
        bool changed = false;
        for (PendingDecommission& d : decommissions) {
          if (Contains(next.decommissioning(), d.node_id) ||
              Contains(next.removed(), d.node_id)) {
            continue;
          }
          const bool holds = HoldsAnything(next, d.node_id);
          *(holds ? next.add_decommissioning() : next.add_removed()) = d.node_id;
          d.response.set_removed(!holds);
          QKV_LOG(INFO) << "node " << d.node_id
                        << (holds ? " is DECOMMISSIONING: draining"
                                  : " decommissioned: it held nothing, REMOVED");
          changed = true;
        }
        return Advance(next, next_epoch, members, now) || changed;
      });
  if (!status.ok()) {
    QKV_LOG(ERROR) << "cannot persist directory change for moves: " << status;
  }
  std::vector<uint32_t> cancelled;
  {
    absl::MutexLock lock(&mu_);
    cancelled.swap(cancelled_);
  }
  if (on_cancelled_) {
    for (uint32_t p : cancelled) on_cancelled_(p);
  }
  const uint64_t epoch = directory_->Get()->epoch();
  for (PendingDecommission& d : decommissions) {
    d.response.set_epoch(epoch);
    if (status.ok()) {
      d.done(std::move(d.response));
    } else {
      d.done(status);
    }
  }
  return options_.interval;
}

bool MoveTracker::Advance(Directory& next, uint64_t next_epoch,
                          const std::vector<Member>& members, absl::Time now) {
  if (next.assignments_size() == 0) return false;  // not formed
  bool changed = false;
  const uint32_t replication = next.replication();

  // 1. Switch completed moves; cancel those whose destination failed.
  google::protobuf::RepeatedPtrField<Move> kept;
  for (const Move& move : next.moves()) {
    PartitionReplicas* replicas = next.mutable_assignments(move.partition());
    Progress& progress = progress_.try_emplace(
        MoveKey{move.partition(), move.epoch()}, Progress{0, false, now})
        .first->second;
    const bool removed = Contains(next.removed(), move.to_node());
    const Member* to = FindMember(members, move.to_node());
    // After a restart this master waits for nodes to heartbeat again before
    // it judges them.
    const bool to_down =
        (to == nullptr || to->state != UP) &&
        now - std::max(to == nullptr ? absl::InfinitePast() : to->last_heartbeat,
                       led_since_) > options_.node_down_after;
    std::string cancel;
    if (removed || to_down) {
      cancel = "the destination is DOWN";
    } else if (!progress.complete &&
               now - progress.last_change > options_.stall_timeout) {
      cancel = absl::StrCat("no progress for ",
                            absl::FormatDuration(options_.stall_timeout));
    } else if (progress.complete) {
      auto& ids = *replicas->mutable_node_ids();
      auto from = std::find(ids.begin(), ids.end(), move.from_node());
      if (!move.from_node().empty() && from != ids.end()) {
        *from = move.to_node();
      } else if (static_cast<uint32_t>(ids.size()) < replication) {
        *replicas->add_node_ids() = move.to_node();
      } else {
        cancel = "the partition has N replicas already";
      }
      if (cancel.empty()) {
        EraseId(replicas->mutable_joining_ids(), move.to_node());
        RecordEnded(move, "done", "", now);
        progress_.erase(MoveKey{move.partition(), move.epoch()});
        ++counters_.completed;
        QKV_LOG(INFO) << "move of partition " << move.partition() << " to "
                      << move.to_node() << " complete ("
                      << MoveReasonName(move.reason()) << "); "
                      << (move.from_node().empty() ? "no replica"
                                                   : move.from_node())
                      << " leaves it";
        changed = true;
        continue;
      }
    }
    if (!cancel.empty()) {
      EraseId(replicas->mutable_joining_ids(), move.to_node());
      RecordEnded(move, "cancelled", cancel, now);
      progress_.erase(MoveKey{move.partition(), move.epoch()});
      avoid_until_[move.to_node()] = now + options_.avoid_after_cancel;
      cancelled_.push_back(move.partition());
      ++counters_.cancelled;
      QKV_LOG(WARNING) << "move of partition " << move.partition() << " to "
                       << move.to_node() << " cancelled: " << cancel
                       << "; it will be planned again";
      changed = true;
      continue;
    }
    *kept.Add() = move;
  }
  next.mutable_moves()->Swap(&kept);

  // 2. A drained node is REMOVED.
  for (const std::string& id :
       std::vector<std::string>(next.decommissioning().begin(),
                                next.decommissioning().end())) {
    if (HoldsAnything(next, id)) continue;
    EraseId(next.mutable_decommissioning(), id);
    *next.add_removed() = id;
    QKV_LOG(INFO) << "node " << id << " is drained: REMOVED";
    changed = true;
  }

  // 3. Start what the planner proposes, within the throttle.
  absl::flat_hash_map<std::string, uint32_t> busy;
  auto charge = [&](const std::string& from, const std::string& to) {
    ++busy[to];
    if (!from.empty() && IsUp(members, from)) ++busy[from];
  };
  for (const Move& move : next.moves()) charge(move.from_node(), move.to_node());
  for (const PlannedMove& planned :
       PlanMoves(next, ClusterShape(next, members, now))) {
    const bool from_busy = !planned.from.empty() && IsUp(members, planned.from) &&
                           busy[planned.from] >= options_.max_moves_per_node;
    if (busy[planned.to] >= options_.max_moves_per_node || from_busy) continue;
    charge(planned.from, planned.to);
    *next.mutable_assignments(planned.partition)->add_joining_ids() = planned.to;
    Move* move = next.add_moves();
    move->set_partition(planned.partition);
    move->set_from_node(planned.from);
    move->set_to_node(planned.to);
    move->set_reason(planned.reason);
    move->set_epoch(next_epoch);
    move->set_started_ms(absl::ToUnixMillis(now));
    progress_[MoveKey{planned.partition, next_epoch}] = Progress{0, false, now};
    ++counters_.started;
    QKV_LOG(INFO) << "move of partition " << planned.partition << " from "
                  << (planned.from.empty() ? "(none)" : planned.from) << " to "
                  << planned.to << " started ("
                  << MoveReasonName(planned.reason) << ", epoch " << next_epoch
                  << ")";
    changed = true;
  }

  // 4. Keep the coordinator role (first replica) spread: switches shift it,
  // a directory formed before the rule may lack it, and reordering a list
  // moves no data. Nothing else changes the lists, so other ticks skip it.
  if (leaders_balanced_ && !changed) return false;
  leaders_balanced_ = true;
  std::vector<std::vector<std::string>> orders;
  orders.reserve(next.assignments_size());
  for (const PartitionReplicas& p : next.assignments()) {
    orders.emplace_back(p.node_ids().begin(), p.node_ids().end());
  }
  std::vector<std::vector<std::string>*> lists;
  for (auto& order : orders) lists.push_back(&order);
  if (BalanceLeaders(lists) > 0) {
    for (int p = 0; p < next.assignments_size(); ++p) {
      auto* ids = next.mutable_assignments(p)->mutable_node_ids();
      ids->Assign(orders[p].begin(), orders[p].end());
    }
    QKV_LOG(INFO) << "coordinator role rebalanced over the replicas";
    changed = true;
  }
  return changed;
}

std::vector<StreamTask> MoveTracker::OnHeartbeat(
    const HeartbeatRequest& heartbeat, bool* waiting) {
  *waiting = false;
  const absl::Time now = absl::Now();
  bool completed = false;
  {
    absl::MutexLock lock(&mu_);
    for (const StreamProgress& p : heartbeat.streams()) {
      auto it = progress_.find(MoveKey{p.partition(), p.move_epoch()});
      if (it == progress_.end()) continue;  // not a move in flight
      Progress& progress = it->second;
      if (p.bytes_streamed() != progress.bytes || p.complete() != progress.complete) {
        progress.last_change = now;
      }
      progress.bytes = p.bytes_streamed();
      completed = completed || (p.complete() && !progress.complete);
      progress.complete = p.complete();
    }
  }
  if (completed) Wake();

  std::vector<StreamTask> tasks;
  DirectoryPtr directory = directory_->Get();
  // Every node heartbeats every second: copy the members' state only for
  // one that has a move to run.
  std::vector<Member> members;
  for (const Move& move : directory->proto().moves()) {
    if (move.to_node() != heartbeat.node_id()) continue;
    if (members.empty()) members = membership_->Snapshot(now);
    const std::vector<std::string>& full = directory->Replicas(move.partition());
    // The stream starts once every live coordinator of the partition sends
    // its writes to the destination too.
    bool ready = true;
    std::vector<const NodeDescriptor*> live;
    for (const std::string& id : full) {
      const Member* m = FindMember(members, id);
      if (m == nullptr || m->state != UP) continue;
      ready = ready && m->directory_epoch >= move.epoch();
      if (const NodeDescriptor* node = directory->FindNode(id)) live.push_back(node);
    }
    if (!ready || live.empty()) {
      *waiting = true;
      continue;
    }
    StreamTask& task = tasks.emplace_back();
    task.set_partition(move.partition());
    task.set_move_epoch(move.epoch());
    task.set_rate_bytes_per_sec(options_.stream_rate);
    const NodeDescriptor* from = nullptr;
    for (const NodeDescriptor* node : live) {
      if (node->id() == move.from_node()) from = node;
    }
    if (from != nullptr) {
      *task.add_sources() = *from;
    } else {
      for (const NodeDescriptor* node : live) *task.add_sources() = *node;
    }
  }
  return tasks;
}

namespace {
constexpr absl::Duration kRecentFor = absl::Minutes(10);
constexpr size_t kMostRecent = 100;
}  // namespace

void MoveTracker::RecordEnded(const Move& move, const std::string& state,
                              const std::string& why, absl::Time now) {
  MoveStatus& ended = recent_.emplace_back();
  *ended.mutable_move() = move;
  ended.set_state(state);
  ended.set_finished_ms(absl::ToUnixMillis(now));
  ended.set_why(why);
  if (auto it = progress_.find(MoveKey{move.partition(), move.epoch()});
      it != progress_.end()) {
    ended.set_bytes_streamed(it->second.bytes);
  }
  while (recent_.size() > kMostRecent) recent_.pop_front();
}

std::vector<MoveStatus> MoveTracker::Recent() const {
  absl::MutexLock lock(&mu_);
  const int64_t since = absl::ToUnixMillis(absl::Now() - kRecentFor);
  std::vector<MoveStatus> out;
  for (auto it = recent_.rbegin(); it != recent_.rend(); ++it) {
    if (it->finished_ms() < since) break;
    out.push_back(*it);
  }
  return out;
}

std::vector<MoveStatus> MoveTracker::ToStatus(
    const std::vector<PlannedMove>& plan) {
  std::vector<MoveStatus> result;
  for (const PlannedMove& planned : plan) {
    MoveStatus& status = result.emplace_back();
    status.mutable_move()->set_partition(planned.partition);
    status.mutable_move()->set_from_node(planned.from);
    status.mutable_move()->set_to_node(planned.to);
    status.mutable_move()->set_reason(planned.reason);
    status.set_state("planned");
  }
  return result;
}

std::vector<MoveStatus> MoveTracker::InFlight() const {
  DirectoryPtr directory = directory_->Get();
  std::vector<MoveStatus> result;
  absl::MutexLock lock(&mu_);
  for (const Move& move : directory->proto().moves()) {
    MoveStatus& status = result.emplace_back();
    *status.mutable_move() = move;
    auto it = progress_.find(MoveKey{move.partition(), move.epoch()});
    const bool complete = it != progress_.end() && it->second.complete;
    status.set_state(complete ? "switching" : "streaming");
    if (it != progress_.end()) status.set_bytes_streamed(it->second.bytes);
  }
  return result;
}

std::vector<MoveStatus> MoveTracker::Plan() const {
  DirectoryPtr directory = directory_->Get();
  const absl::Time now = absl::Now();
  const std::vector<Member> members = membership_->Snapshot(now);
  absl::MutexLock lock(&mu_);
  return ToStatus(
      PlanMoves(directory->proto(), ClusterShape(directory->proto(), members, now)));
}

uint32_t MoveTracker::Misplaced() const {
  DirectoryPtr directory = directory_->Get();
  if (!directory->formed()) return 0;
  const absl::Time now = absl::Now();
  const std::vector<Member> members = membership_->Snapshot(now);
  absl::MutexLock lock(&mu_);
  return CountMisplaced(directory->proto(),
                        ClusterShape(directory->proto(), members, now));
}

absl::StatusOr<DecommissionResponse> MoveTracker::PlanDecommission(
    const std::string& node_id) {
  DirectoryPtr directory = directory_->Get();
  if (directory->FindNode(node_id) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown node ", node_id, " (see kvcli nodes)"));
  }
  if (!directory->formed()) {
    return absl::FailedPreconditionError(
        "the directory is not formed yet: nothing to decommission");
  }
  DecommissionResponse response;
  if (directory->IsRemoved(node_id)) {
    response.set_epoch(directory->epoch());
    response.set_removed(true);
    return response;
  }
  const absl::Time now = absl::Now();
  const std::vector<Member> members = membership_->Snapshot(now);
  // The rest must offer N distinct racks where the cluster had N or more,
  // or N live nodes otherwise.
  absl::flat_hash_set<std::string> all_racks, other_racks;
  uint32_t others = 0;
  for (const NodeDescriptor& node : directory->proto().nodes()) {
    if (directory->IsRemoved(node.id())) continue;
    all_racks.insert(node.rack());
    if (node.id() == node_id || directory->IsDecommissioning(node.id()) ||
        !IsUp(members, node.id())) {
      continue;
    }
    other_racks.insert(node.rack());
    ++others;
  }
  const uint32_t n = directory->replication();
  if (all_racks.size() >= n && other_racks.size() < n) {
    std::vector<std::string> racks(other_racks.begin(), other_racks.end());
    std::sort(racks.begin(), racks.end());
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot decommission ", node_id, ": the other UP nodes span ",
        other_racks.size(), " rack(s) (", absl::StrJoin(racks, ", "),
        ") and N=", n, " replicas need ", n, " distinct racks"));
  }
  if (others < n) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot decommission ", node_id, ": ", others,
        " other UP node(s) cannot hold N=", n, " replicas"));
  }
  Directory shape_of = directory->proto();
  if (!directory->IsDecommissioning(node_id)) {
    *shape_of.add_decommissioning() = node_id;
  }
  std::vector<PlannedMove> drain;
  {
    absl::MutexLock lock(&mu_);
    for (PlannedMove& planned :
         PlanMoves(shape_of, ClusterShape(shape_of, members, now))) {
      if (planned.from == node_id) drain.push_back(std::move(planned));
    }
  }
  for (MoveStatus& status : ToStatus(drain)) *response.add_moves() = status;
  response.set_epoch(directory->epoch());
  return response;
}

void MoveTracker::Decommission(const std::string& node_id, bool dry_run,
                               DecommissionDone done) {
  absl::StatusOr<DecommissionResponse> plan = PlanDecommission(node_id);
  if (!plan.ok() || dry_run || plan->removed()) {
    done(std::move(plan));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    decommissions_.push_back({node_id, *std::move(plan), std::move(done)});
  }
  Wake();
}

}  // namespace quorumkv
