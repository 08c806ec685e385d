// Ownership of a data directory by one QuorumKV process kind.
//
// Every data dir holds an IDENTITY file naming the kind of process that owns
// it and that process's stable id, so that a master never opens a storage
// node's data (or the reverse) and a storage node keeps its id across
// restarts. A storage node's also names the cluster it joined, so that a
// master of another cluster refuses it. Part of the on-disk format:
// "kind=<kind>\nid=<id>\n" and, once joined, "cluster=<cluster id>\n".
#ifndef QUORUMKV_COMMON_DATA_DIR_H_
#define QUORUMKV_COMMON_DATA_DIR_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quorumkv {

struct DataDirIdentity {
  std::string kind;  // "master" or "storage_node"
  std::string id;    // stable; generated on first use
  std::string cluster;  // empty until the process joins a cluster
};

// Creates `dir` and its IDENTITY (with a new random id) on first use; later,
// checks that it belongs to `kind`. FAILED_PRECONDITION when the directory
// belongs to another kind, or is not empty and has no IDENTITY (it is not
// ours to write into).
absl::StatusOr<DataDirIdentity> OpenDataDir(const std::string& dir,
                                            absl::string_view kind);

// Records `cluster` as the cluster the process owning `dir` belongs to
// (rewriting IDENTITY atomically) and sets identity->cluster.
absl::Status RecordCluster(const std::string& dir, DataDirIdentity* identity,
                           const std::string& cluster);

// A new random cluster id (16 hex digits).
std::string NewClusterId();

// Total and free bytes of the file system holding `dir`; zeros on error.
struct DiskSpace {
  uint64_t capacity_bytes = 0;
  uint64_t free_bytes = 0;
};
DiskSpace GetDiskSpace(const std::string& dir);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_DATA_DIR_H_
