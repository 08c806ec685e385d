// The master's view of which nodes are DOWN, as the last heartbeat answer
// gave it. Coordinators use it to refuse writes that cannot reach W and to
// read from live replicas first. Empty while the master cannot be reached:
// then only a coordinator's own channels say who is gone. Thread-safe; read
// on every request, written once a heartbeat.
#ifndef QUORUMKV_STORAGE_NODE_DOWN_NODES_H_
#define QUORUMKV_STORAGE_NODE_DOWN_NODES_H_

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace quorumkv {

class DownNodes {
 public:
  template <typename Ids>
  void Set(const Ids& ids) {
    absl::flat_hash_set<std::string> next(ids.begin(), ids.end());
    absl::WriterMutexLock lock(&mu_);
    down_.swap(next);
  }

  bool IsDown(absl::string_view id) const {
    absl::ReaderMutexLock lock(&mu_);
    return down_.contains(id);
  }

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> down_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_DOWN_NODES_H_
