#include "common/directory_codec.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace quorumkv {

CompactDirectory Compact(const Directory& directory) {
  CompactDirectory compact;
  compact.set_epoch(directory.epoch());
  compact.set_partitions(directory.partitions());
  compact.set_replication(directory.replication());
  *compact.mutable_nodes() = directory.nodes();
  absl::flat_hash_map<std::string, uint32_t> index;
  for (int i = 0; i < directory.nodes_size(); ++i) {
    index.emplace(directory.nodes(i).id(), static_cast<uint32_t>(i));
  }
  auto index_of = [&](const std::string& id) {
    auto it = index.find(id);
    if (it != index.end()) return it->second;
    // Not in the node list: named once more, so that nothing is lost.
    const uint32_t added = static_cast<uint32_t>(compact.nodes_size());
    compact.add_nodes()->set_id(id);
    index.emplace(id, added);
    return added;
  };
  compact.mutable_replica_counts()->Reserve(directory.assignments_size());
  compact.mutable_replicas()->Reserve(directory.assignments_size() *
                                      directory.replication());
  for (int i = 0; i < directory.assignments_size(); ++i) {
    const PartitionReplicas& p = directory.assignments(i);
    compact.add_replica_counts(static_cast<uint32_t>(p.node_ids_size()));
    for (const std::string& id : p.node_ids()) compact.add_replicas(index_of(id));
    for (const std::string& id : p.joining_ids()) {
      compact.add_joining_at(static_cast<uint32_t>(i));
      compact.add_joining(index_of(id));
    }
  }
  *compact.mutable_moves() = directory.moves();
  *compact.mutable_decommissioning() = directory.decommissioning();
  *compact.mutable_removed() = directory.removed();
  compact.set_cluster_id(directory.cluster_id());
  *compact.mutable_linearizable_prefixes() = directory.linearizable_prefixes();
  compact.set_term(directory.term());
  compact.set_key_hash(directory.key_hash());
  return compact;
}

absl::StatusOr<Directory> Expand(const CompactDirectory& compact) {
  Directory directory;
  directory.set_epoch(compact.epoch());
  directory.set_partitions(compact.partitions());
  directory.set_replication(compact.replication());
  *directory.mutable_nodes() = compact.nodes();
  const uint32_t known = static_cast<uint32_t>(compact.nodes_size());
  auto node_id = [&](int p, uint32_t i) -> absl::StatusOr<const std::string*> {
    if (i >= known) {
      return absl::DataLossError(absl::StrCat(
          "directory epoch ", compact.epoch(), ": partition ", p,
          " names node index ", i, " of ", known));
    }
    return &compact.nodes(static_cast<int>(i)).id();
  };
  const int partitions = compact.replica_counts_size();
  directory.mutable_assignments()->Reserve(partitions);
  int next = 0;  // into compact.replicas
  for (int p = 0; p < partitions; ++p) {
    PartitionReplicas* out = directory.add_assignments();
    const int count = static_cast<int>(compact.replica_counts(p));
    if (count > compact.replicas_size() - next) {
      return absl::DataLossError(absl::StrCat(
          "directory epoch ", compact.epoch(), ": partition ", p, " has ",
          count, " replicas, past the end of the list"));
    }
    out->mutable_node_ids()->Reserve(count);
    for (int j = 0; j < count; ++j) {
      ASSIGN_OR_RETURN(const std::string* id, node_id(p, compact.replicas(next++)));
      out->add_node_ids(*id);
    }
  }
  if (compact.joining_at_size() != compact.joining_size()) {
    return absl::DataLossError(absl::StrCat(
        "directory epoch ", compact.epoch(), ": ", compact.joining_size(),
        " joining replicas for ", compact.joining_at_size(), " partitions"));
  }
  for (int j = 0; j < compact.joining_size(); ++j) {
    const uint32_t p = compact.joining_at(j);
    if (p >= static_cast<uint32_t>(partitions)) {
      return absl::DataLossError(absl::StrCat(
          "directory epoch ", compact.epoch(), ": a joining replica of partition ",
          p, " of ", partitions));
    }
    ASSIGN_OR_RETURN(const std::string* id,
                     node_id(static_cast<int>(p), compact.joining(j)));
    directory.mutable_assignments(static_cast<int>(p))->add_joining_ids(*id);
  }
  // Ids named only by partitions (Compact added them) are not registered
  // nodes: leave them out of the node list.
  while (directory.nodes_size() > 0 &&
         directory.nodes(directory.nodes_size() - 1).address().empty() &&
         directory.nodes(directory.nodes_size() - 1).rack().empty()) {
    directory.mutable_nodes()->RemoveLast();
  }
  *directory.mutable_moves() = compact.moves();
  *directory.mutable_decommissioning() = compact.decommissioning();
  *directory.mutable_removed() = compact.removed();
  directory.set_cluster_id(compact.cluster_id());
  *directory.mutable_linearizable_prefixes() = compact.linearizable_prefixes();
  directory.set_term(compact.term());
  directory.set_key_hash(compact.key_hash());
  return directory;
}

namespace {

bool SameNodes(const google::protobuf::RepeatedPtrField<NodeDescriptor>& a,
               const google::protobuf::RepeatedPtrField<NodeDescriptor>& b) {
  if (a.size() != b.size()) return false;
  for (int i = 0; i < a.size(); ++i) {
    if (a[i].id() != b[i].id() || a[i].address() != b[i].address() ||
        a[i].rack() != b[i].rack()) {
      return false;
    }
  }
  return true;
}

}  // namespace

DirectoryUpdate MakeUpdate(const Directory* known, const Directory& current) {
  DirectoryUpdate update;
  if (known == nullptr || known->epoch() >= current.epoch() ||
      known->assignments_size() != current.assignments_size()) {
    *update.mutable_full() = Compact(current);
    return update;
  }
  DirectoryDelta* delta = update.mutable_delta();
  delta->set_from_epoch(known->epoch());
  Directory changed = current;
  changed.clear_assignments();
  for (int p = 0; p < current.assignments_size(); ++p) {
    const PartitionReplicas& now = current.assignments(p);
    const PartitionReplicas& before = known->assignments(p);
    if (std::equal(now.node_ids().begin(), now.node_ids().end(),
                   before.node_ids().begin(), before.node_ids().end()) &&
        std::equal(now.joining_ids().begin(), now.joining_ids().end(),
                   before.joining_ids().begin(), before.joining_ids().end())) {
      continue;
    }
    delta->add_changed(static_cast<uint32_t>(p));
    *changed.add_assignments() = now;
  }
  *delta->mutable_directory() = Compact(changed);
  // Most changes move partitions between the same nodes: do not send a
  // thousand nodes again for them.
  if (SameNodes(known->nodes(), current.nodes()) &&
      delta->directory().nodes_size() == current.nodes_size()) {
    delta->set_same_nodes(true);
    delta->mutable_directory()->clear_nodes();
  }
  return update;
}

absl::StatusOr<Directory> ApplyUpdate(const Directory& current,
                                      const DirectoryUpdate& update) {
  if (update.has_full()) return Expand(update.full());
  if (!update.has_delta()) {
    return absl::InvalidArgumentError("the directory update is empty");
  }
  const DirectoryDelta& delta = update.delta();
  if (!current.cluster_id().empty() &&
      delta.directory().cluster_id() != current.cluster_id()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a directory delta of cluster ", delta.directory().cluster_id(),
        " does not apply to cluster ", current.cluster_id()));
  }
  if (delta.from_epoch() != current.epoch()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a directory delta from epoch ", delta.from_epoch(),
        " does not apply to epoch ", current.epoch()));
  }
  Directory changed;
  if (delta.same_nodes()) {
    CompactDirectory with_nodes = delta.directory();
    *with_nodes.mutable_nodes() = current.nodes();
    ASSIGN_OR_RETURN(changed, Expand(with_nodes));
  } else {
    ASSIGN_OR_RETURN(changed, Expand(delta.directory()));
  }
  if (changed.assignments_size() != delta.changed_size()) {
    return absl::DataLossError("a directory delta lists partitions it lacks");
  }
  Directory next = std::move(changed);
  google::protobuf::RepeatedPtrField<PartitionReplicas> assignments =
      current.assignments();
  for (int i = 0; i < delta.changed_size(); ++i) {
    const uint32_t p = delta.changed(i);
    if (p >= static_cast<uint32_t>(assignments.size())) {
      return absl::DataLossError(absl::StrCat(
          "a directory delta changes partition ", p, " of ",
          assignments.size()));
    }
    assignments[p] = next.assignments(i);
  }
  *next.mutable_assignments() = std::move(assignments);
  return next;
}

}  // namespace quorumkv
