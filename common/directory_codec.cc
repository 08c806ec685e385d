#include "common/directory_codec.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

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
  compact.mutable_assignments()->Reserve(directory.assignments_size());
  for (const PartitionReplicas& p : directory.assignments()) {
    CompactReplicas* replicas = compact.add_assignments();
    for (const std::string& id : p.node_ids()) replicas->add_replicas(index_of(id));
    for (const std::string& id : p.joining_ids()) replicas->add_joining(index_of(id));
  }
  *compact.mutable_moves() = directory.moves();
  *compact.mutable_decommissioning() = directory.decommissioning();
  *compact.mutable_removed() = directory.removed();
  compact.set_cluster_id(directory.cluster_id());
  compact.set_term(directory.term());
  return compact;
}

absl::StatusOr<Directory> Expand(const CompactDirectory& compact) {
  Directory directory;
  directory.set_epoch(compact.epoch());
  directory.set_partitions(compact.partitions());
  directory.set_replication(compact.replication());
  *directory.mutable_nodes() = compact.nodes();
  directory.mutable_assignments()->Reserve(compact.assignments_size());
  for (int p = 0; p < compact.assignments_size(); ++p) {
    const CompactReplicas& replicas = compact.assignments(p);
    PartitionReplicas* out = directory.add_assignments();
    for (int j = 0; j < replicas.replicas_size() + replicas.joining_size(); ++j) {
      const bool joining = j >= replicas.replicas_size();
      const uint32_t i = joining ? replicas.joining(j - replicas.replicas_size())
                                 : replicas.replicas(j);
      if (i >= static_cast<uint32_t>(compact.nodes_size())) {
        return absl::DataLossError(absl::StrCat(
            "directory epoch ", compact.epoch(), ": partition ", p,
            " names node index ", i, " of ", compact.nodes_size()));
      }
      *(joining ? out->add_joining_ids() : out->add_node_ids()) =
          compact.nodes(i).id();
    }
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
  directory.set_term(compact.term());
  return directory;
}

}  // namespace quorumkv
