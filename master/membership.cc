#include "master/membership.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace quorumkv {

Membership::Membership(absl::Duration node_down_after)
    : node_down_after_(node_down_after) {}

void Membership::AddKnown(const NodeDescriptor& node) {
  absl::MutexLock lock(&mu_);
  Member& member = members_[node.id()];
  // A node that registered keeps what it registered with.
  if (member.last_heartbeat == absl::InfinitePast()) member.node = node;
}

absl::Status Membership::Register(const RegisterRequest& request,
                                  absl::Time now) {
  const NodeDescriptor& node = request.node();
  absl::MutexLock lock(&mu_);
  auto it = members_.find(node.id());
  if (it != members_.end() && StateUnlocked(it->second, now) == UP &&
      it->second.node.address() != node.address()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "node id ", node.id(), " is already registered by a live node at ",
        it->second.node.address(), "; two storage nodes share one data dir "
        "identity (copied data dir?). Give each node its own --data_dir"));
  }
  Member& member = members_[node.id()];
  member.node = node;
  member.capacity_bytes = request.capacity_bytes();
  member.load = request.load();
  member.last_heartbeat = now;
  return absl::OkStatus();
}

absl::Status Membership::Heartbeat(const HeartbeatRequest& request,
                                   absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto it = members_.find(request.node_id());
  if (it == members_.end() || it->second.last_heartbeat == absl::InfinitePast()) {
    return absl::NotFoundError(absl::StrCat(
        "node ", request.node_id(), " is not registered; register first"));
  }
  it->second.load = request.load();
  it->second.directory_epoch = request.directory_epoch();
  it->second.last_heartbeat = now;
  return absl::OkStatus();
}

NodeState Membership::StateUnlocked(const Member& member,
                                    absl::Time now) const {
  if (followed_up_) return followed_up_->contains(member.node.id()) ? UP : DOWN;
  return now - member.last_heartbeat <= node_down_after_ ? UP : DOWN;
}

void Membership::Follow(const NodeStates& states) {
  absl::MutexLock lock(&mu_);
  followed_up_.emplace(states.up().begin(), states.up().end());
}

void Membership::Lead() {
  absl::MutexLock lock(&mu_);
  followed_up_.reset();
  for (auto& [id, member] : members_) {
    member.last_heartbeat = absl::InfinitePast();
  }
}

NodeStates Membership::UpNow(absl::Time now) const {
  NodeStates states;
  absl::MutexLock lock(&mu_);
  std::vector<std::string> up;
  for (const auto& [id, member] : members_) {
    if (StateUnlocked(member, now) == UP) up.push_back(id);
  }
  std::sort(up.begin(), up.end());
  for (std::string& id : up) states.add_up(std::move(id));
  return states;
}

std::vector<Member> Membership::Snapshot(absl::Time now) const {
  std::vector<Member> result;
  {
    absl::MutexLock lock(&mu_);
    result.reserve(members_.size());
    for (const auto& [id, member] : members_) {
      result.push_back(member);
      result.back().state = StateUnlocked(member, now);
    }
  }
  std::sort(result.begin(), result.end(), [](const Member& a, const Member& b) {
    return a.node.id() < b.node.id();
  });
  return result;
}

NodeState Membership::StateOf(const std::string& id, absl::Time now) const {
  absl::MutexLock lock(&mu_);
  if (followed_up_) return followed_up_->contains(id) ? UP : DOWN;
  auto it = members_.find(id);
  return it == members_.end() ? NODE_STATE_UNKNOWN
                              : StateUnlocked(it->second, now);
}

size_t Membership::registered_count() const {
  absl::MutexLock lock(&mu_);
  return std::count_if(members_.begin(), members_.end(), [](const auto& kv) {
    return kv.second.last_heartbeat != absl::InfinitePast();
  });
}

}  // namespace quorumkv
