// Where the master keeps what it must not lose: the directory (with the
// moves in flight and the cluster id) and, with replicated masters, what
// the leader publishes for the others. Two homes: the master's data dir
// (master/local_directory_store.h, the embedded default) and etcd
// (master/etcd/etcd_store.h).
//
// Thread-compatible: DirectoryManager serializes directory writes; the
// leader's other publications come from one thread.
#ifndef QUORUMKV_MASTER_DIRECTORY_STORE_H_
#define QUORUMKV_MASTER_DIRECTORY_STORE_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/master.pb.h"

namespace quorumkv {

class DirectoryStore {
 public:
  virtual ~DirectoryStore() = default;

  // The stored directory; nullopt when none was ever stored.
  virtual absl::StatusOr<std::optional<Directory>> Load() const = 0;
  // Persists `directory` before it is announced. FAILED_PRECONDITION with
  // a NotLeader detail when this master may no longer change it (its
  // leadership was superseded).
  virtual absl::Status Save(const Directory& directory) = 0;
  // As Save, for a leader elected at `term` before it leads: it starts
  // from the stored directory, saved again at its term.
  virtual absl::Status SaveAtTerm(const Directory& directory,
                                  uint64_t /*term*/) {
    return Save(directory);
  }

  // What the leader publishes for standbys and for the next leader; a
  // store that has no other masters keeps none of it.
  virtual absl::Status SaveNodeStates(const NodeStates& /*states*/) {
    return absl::OkStatus();
  }
  virtual absl::Status SaveAntiEntropy(const AntiEntropyProgress& /*progress*/) {
    return absl::OkStatus();
  }
  virtual absl::StatusOr<std::optional<AntiEntropyProgress>> LoadAntiEntropy()
      const {
    return std::optional<AntiEntropyProgress>();
  }
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_DIRECTORY_STORE_H_
