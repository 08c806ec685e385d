#include "master/directory_manager.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/data_dir.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace quorumkv {

absl::StatusOr<std::unique_ptr<DirectoryManager>> DirectoryManager::Create(
    DirectoryStore* store, const Leadership* leadership, uint32_t partitions,
    uint32_t replication, KeyHash key_hash, uint32_t initial_nodes,
    std::vector<std::string> linearizable_prefixes, bool load) {
  std::optional<Directory> stored;
  if (load) {
    ASSIGN_OR_RETURN(stored, store->Load());
  }
  Directory initial;
  if (stored) {
    initial = *std::move(stored);
    if (initial.key_hash() != key_hash) {
      QKV_LOG(INFO) << "the stored cluster maps keys by "
                    << KeyHashName(initial.key_hash())
                    << ", fixed when it was created; --key_hash="
                    << KeyHashName(key_hash) << " applies to new clusters";
    }
    if (initial.partitions() != partitions ||
        initial.replication() != replication) {
      QKV_LOG(WARNING) << "the stored cluster has " << initial.partitions()
                       << " partitions and replication "
                       << initial.replication()
                       << "; they were fixed at creation and win over "
                       << "--partitions=" << partitions
                       << " --replication=" << replication;
    }
    QKV_LOG(INFO) << "loaded directory epoch " << initial.epoch() << " with "
                  << initial.nodes_size() << " nodes";
    if (initial.assignments_size() > 0 && initial.cluster_id().empty()) {
      // Formed by a version that had no cluster ids: the cluster gets one
      // now, before any node registers.
      initial.set_cluster_id(NewClusterId());
      initial.set_epoch(initial.epoch() + 1);
      RETURN_IF_ERROR(store->Save(initial));
      QKV_LOG(INFO) << "cluster id " << initial.cluster_id()
                    << " given to the stored cluster (directory epoch "
                    << initial.epoch() << ")";
    }
  } else {
    initial.set_partitions(partitions);
    initial.set_replication(replication);
    initial.set_key_hash(key_hash);
  }
  auto manager = std::unique_ptr<DirectoryManager>(
      new DirectoryManager(store, leadership, initial_nodes,
                           std::move(linearizable_prefixes), initial));
  if (stored && manager->SetPrefixes(initial)) {
    // Changed since the directory was saved: every node must learn them.
    absl::MutexLock lock(&manager->mu_);
    RETURN_IF_ERROR(manager->CommitUnlocked(std::move(initial)));
  }
  return manager;
}

bool DirectoryManager::SetPrefixes(Directory& directory) const {
  const auto& held = directory.linearizable_prefixes();
  if (std::vector<std::string>(held.begin(), held.end()) ==
      linearizable_prefixes_) {
    return false;
  }
  directory.clear_linearizable_prefixes();
  for (const std::string& prefix : linearizable_prefixes_) {
    directory.add_linearizable_prefixes(prefix);
  }
  return true;
}

DirectoryManager::DirectoryManager(
    DirectoryStore* store, const Leadership* leadership,
    uint32_t initial_nodes, std::vector<std::string> linearizable_prefixes,
    Directory initial)
    : store_(store),
      leadership_(leadership),
      initial_nodes_(initial_nodes),
      linearizable_prefixes_(std::move(linearizable_prefixes)),
      holder_(std::make_shared<DirectoryView>(std::move(initial))) {}

absl::Status DirectoryManager::OnRegistered(
    const NodeDescriptor& node,
    const std::vector<PlacementCandidate>& registered) {
  absl::MutexLock lock(&mu_);
  DirectoryPtr current = holder_.Get();
  Directory next = current->proto();
  bool changed = false;
  const NodeDescriptor* known = current->FindNode(node.id());
  if (known == nullptr) {
    *next.add_nodes() = node;
    changed = true;
  } else if (known->address() != node.address() ||
             known->rack() != node.rack() || known->name() != node.name() ||
             known->redis_address() != node.redis_address() ||
             known->memcached_address() != node.memcached_address()) {
    for (NodeDescriptor& n : *next.mutable_nodes()) {
      if (n.id() == node.id()) n = node;
    }
    changed = true;
  }
  if (!current->formed() && registered.size() >= initial_nodes_) {
    ASSIGN_OR_RETURN(auto assignments,
                     PlacePartitions(registered, next.partitions(),
                                     next.replication()));
    for (const auto& replicas : assignments) {
      PartitionReplicas* p = next.add_assignments();
      for (const std::string& id : replicas) p->add_node_ids(id);
    }
    next.set_cluster_id(NewClusterId());
    QKV_LOG(INFO) << "directory formed: cluster " << next.cluster_id() << ", "
                  << next.partitions() << " partitions on "
                  << registered.size() << " nodes";
    changed = true;
  }
  if (!changed) return absl::OkStatus();
  return CommitUnlocked(std::move(next));
}

void DirectoryManager::SetListener(
    std::function<void(const DirectoryPtr&)> listener) {
  absl::MutexLock lock(&mu_);
  listener_ = std::move(listener);
}

absl::Status DirectoryManager::Mutate(const Change& change) {
  absl::MutexLock lock(&mu_);
  Directory next = holder_.Get()->proto();
  if (!change(next, holder_.epoch() + 1)) return absl::OkStatus();
  return CommitUnlocked(std::move(next));
}

void DirectoryManager::Follow(Directory directory) {
  absl::MutexLock lock(&mu_);
  if (directory.epoch() <= holder_.epoch()) return;
  PublishUnlocked(std::move(directory));
}

absl::Status DirectoryManager::TakeOver(uint64_t term,
                                        const std::optional<Directory>& initial) {
  ASSIGN_OR_RETURN(std::optional<Directory> stored, store_->Load());
  absl::MutexLock lock(&mu_);
  if (!stored) stored = initial;
  Directory next = stored ? *std::move(stored) : holder_.Get()->proto();
  if (next.epoch() < holder_.epoch()) {
    // Only a leader writes the store, and each writes the epoch after the
    // one it read: a stored epoch below one seen means the store lost data.
    return absl::DataLossError(absl::StrCat(
        "the stored directory is at epoch ", next.epoch(),
        ", older than epoch ", holder_.epoch(), " seen before"));
  }
  next.set_epoch(next.epoch() + 1);
  next.set_term(term);
  SetPrefixes(next);
  RETURN_IF_ERROR(store_->SaveAtTerm(next, term));
  QKV_LOG(INFO) << "directory epoch " << next.epoch() << " taken over at term "
                << term;
  PublishUnlocked(std::move(next));
  return absl::OkStatus();
}

void DirectoryManager::PublishUnlocked(Directory directory) {
  auto published = std::make_shared<const DirectoryView>(std::move(directory));
  holder_.Install(published);
  if (listener_) listener_(published);
}

absl::Status DirectoryManager::CommitUnlocked(Directory next) {
  SetPrefixes(next);
  next.set_epoch(holder_.epoch() + 1);
  next.set_term(leadership_->term());
  RETURN_IF_ERROR(store_->Save(next));
  QKV_LOG(INFO) << "directory epoch " << next.epoch() << " persisted: "
                << next.nodes_size() << " nodes, " << next.moves_size()
                << " moves in flight, " << next.decommissioning_size()
                << " decommissioning, " << next.removed_size() << " removed";
  PublishUnlocked(std::move(next));
  return absl::OkStatus();
}

}  // namespace quorumkv
