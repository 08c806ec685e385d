#include "common/directory.h"

#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/hash.h"

namespace quorumkv {

DirectoryView::DirectoryView(Directory proto) : proto_(std::move(proto)) {
  replicas_.reserve(proto_.assignments_size());
  joining_.reserve(proto_.assignments_size());
  for (const PartitionReplicas& p : proto_.assignments()) {
    replicas_.emplace_back(p.node_ids().begin(), p.node_ids().end());
    joining_.emplace_back(p.joining_ids().begin(), p.joining_ids().end());
  }
  for (const NodeDescriptor& node : proto_.nodes()) {
    nodes_by_id_[node.id()] = &node;
  }
}

bool DirectoryView::formed() const {
  return proto_.partitions() > 0 &&
         replicas_.size() == proto_.partitions();
}

const char* KeyHashName(KeyHash key_hash) {
  return key_hash == KEY_HASH_REDIS_SLOTS ? "redis_slots" : "xxh3";
}

bool AbslParseFlag(absl::string_view text, KeyHashFlag* flag,
                   std::string* error) {
  for (KeyHash k : {KEY_HASH_REDIS_SLOTS, KEY_HASH_XXH3}) {
    if (text == KeyHashName(k)) {
      flag->value = k;
      return true;
    }
  }
  *error = absl::StrCat("\"", text, "\" is neither redis_slots nor xxh3");
  return false;
}

std::string AbslUnparseFlag(KeyHashFlag flag) {
  return KeyHashName(flag.value);
}

uint32_t DirectoryView::PartitionOf(absl::string_view key) const {
  if (proto_.key_hash() == KEY_HASH_REDIS_SLOTS) {
    return PartitionOfSlot(RedisSlot(key), proto_.partitions());
  }
  return quorumkv::PartitionOf(key, proto_.partitions());
}

const std::vector<std::string>& DirectoryView::Replicas(
    uint32_t partition) const {
  static const std::vector<std::string>* const kNone =
      new std::vector<std::string>();
  return partition < replicas_.size() ? replicas_[partition] : *kNone;
}

const std::vector<std::string>& DirectoryView::Joining(
    uint32_t partition) const {
  static const std::vector<std::string>* const kNone =
      new std::vector<std::string>();
  return partition < joining_.size() ? joining_[partition] : *kNone;
}

bool DirectoryView::Holds(absl::string_view node_id,
                          uint32_t partition) const {
  return absl::c_linear_search(Replicas(partition), node_id);
}

bool DirectoryView::IsJoining(absl::string_view node_id,
                              uint32_t partition) const {
  return absl::c_linear_search(Joining(partition), node_id);
}

uint32_t DirectoryView::PartitionsHeldBy(absl::string_view node_id) const {
  uint32_t held = 0;
  for (uint32_t p = 0; p < partitions(); ++p) {
    held += Holds(node_id, p) || IsJoining(node_id, p);
  }
  return held;
}

std::vector<std::string> DirectoryView::WriteTargets(uint32_t partition) const {
  std::vector<std::string> targets = Replicas(partition);
  const std::vector<std::string>& joining = Joining(partition);
  targets.insert(targets.end(), joining.begin(), joining.end());
  return targets;
}

bool DirectoryView::IsLinearizable(absl::string_view key) const {
  for (const std::string& prefix : proto_.linearizable_prefixes()) {
    if (absl::StartsWith(key, prefix)) return true;
  }
  return false;
}

bool DirectoryView::IsDecommissioning(absl::string_view node_id) const {
  return absl::c_linear_search(proto_.decommissioning(), node_id);
}

bool DirectoryView::IsRemoved(absl::string_view node_id) const {
  return absl::c_linear_search(proto_.removed(), node_id);
}

const NodeDescriptor* DirectoryView::FindNode(absl::string_view node_id) const {
  auto it = nodes_by_id_.find(node_id);
  return it == nodes_by_id_.end() ? nullptr : it->second;
}

const char* MoveReasonName(MoveReason reason) {
  switch (reason) {
    case MOVE_REPLACE: return "replace";
    case MOVE_REBALANCE: return "rebalance";
    case MOVE_DECOMMISSION: return "decommission";
    case MOVE_SPREAD: return "spread";
    default: return "unknown";
  }
}

absl::Status NotFormedError(uint64_t registered_nodes, uint32_t initial_nodes) {
  return absl::UnavailableError(absl::StrCat(
      "the cluster is not formed yet: ", registered_nodes, " of ",
      initial_nodes, " storage nodes registered (--initial_nodes=",
      initial_nodes, ")"));
}

DirectoryPtr DirectoryHolder::Get() const {
  // Every request reads it; it changes a few times a day.
  absl::ReaderMutexLock lock(&mu_);
  return current_;
}

bool DirectoryHolder::Install(DirectoryPtr directory) {
  absl::MutexLock lock(&mu_);
  if (directory->epoch() <= current_->epoch()) return false;
  current_ = std::move(directory);
  return true;
}

void DirectoryHolder::Reset(DirectoryPtr directory) {
  absl::MutexLock lock(&mu_);
  current_ = std::move(directory);
}

}  // namespace quorumkv
