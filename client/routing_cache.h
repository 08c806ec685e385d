// The SDK's routing table for iterative queries: the directory and the
// node states the master last gave, refreshed when a node answers
// WrongNode or cannot be reached. Any master answers (standbys follow the
// directory); one that cannot be reached is left for the next. Concurrent refreshes are coalesced:
// however many requests bounce at once (every move changes the epoch), one
// GetDirectory is in flight and each waiter gets its outcome, so clients do
// not storm the master.
//
// Thread-safe. Callbacks run on a gRPC thread, or on the caller's thread
// when the fetch fails to start.
#ifndef QUORUMKV_CLIENT_ROUTING_CACHE_H_
#define QUORUMKV_CLIENT_ROUTING_CACHE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "common/master_set.h"
#include "common/replica_router.h"
#include "proto/master.grpc.pb.h"

namespace quorumkv {

class RoutingCache final : public RoutingSource {
 public:
  // `masters` must outlive the cache and every fetch in flight. A fetch
  // that fails is described by `describe` (what the user can do about it).
  RoutingCache(MasterSet* masters,
               std::function<std::string(const absl::Status&)> describe);

  // The newest directory fetched; unformed at epoch 0 before the first.
  DirectoryPtr Get() const { return directory_.Get(); }
  DirectoryPtr directory() const override { return Get(); }
  // Whether the master reported the node not UP at the last fetch.
  bool IsDown(const std::string& node_id) const override;
  // Why the directory is not formed, as of the last fetch.
  absl::Status NotFormed() const override;

  // Fetches the directory, or joins the fetch already in flight; `done`
  // gets that fetch's outcome. The fetch has the deadline of the caller
  // that started it.
  void Refresh(absl::Time deadline,
               std::function<void(absl::Status)> done) override;

  // Fetches made so far (tests check the coalescing).
  uint64_t fetches() const;
  // Tests: route by `directory` until the next refresh, which asks for
  // the whole directory (a staged one is none the master published, so the
  // changes since its epoch would not fit it).
  void SetForTesting(DirectoryPtr directory) {
    absl::MutexLock lock(&mu_);
    staged_ = true;
    directory_.Reset(std::move(directory));
  }

 private:
  // Asks master `master` (having tried `tried` others, whose errors are in
  // `errors`) for the changes since `sent_with`, and goes on to the next
  // while one cannot be reached.
  void FetchFrom(size_t master, size_t tried, absl::Time deadline,
                 std::shared_ptr<std::vector<std::string>> errors,
                 DirectoryPtr sent_with);
  // `directory` is what `response` carried, when `status` is OK.
  void OnFetched(const GetDirectoryResponse& response,
                 absl::StatusOr<Directory> directory, absl::Status status);

  MasterSet* const masters_;
  const std::function<std::string(const absl::Status&)> describe_;
  DirectoryHolder directory_;

  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::string> down_nodes_ ABSL_GUARDED_BY(mu_);
  absl::Status not_formed_ ABSL_GUARDED_BY(mu_);
  bool fetching_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::function<void(absl::Status)>> waiters_ ABSL_GUARDED_BY(mu_);
  uint64_t fetches_ ABSL_GUARDED_BY(mu_) = 0;
  bool staged_ ABSL_GUARDED_BY(mu_) = false;  // SetForTesting since a fetch
};

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_ROUTING_CACHE_H_
