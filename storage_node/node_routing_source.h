// Where a storage node's front doors (doors/kv_gateway.h) learn the
// directory: the node's own, with the nodes its master's last heartbeat
// answer held DOWN tried last; a refresh asks the node's heartbeater for
// the newest directory (the routing loop retries after a backoff).
// Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_NODE_ROUTING_SOURCE_H_
#define QUORUMKV_STORAGE_NODE_NODE_ROUTING_SOURCE_H_

#include <functional>
#include <string>
#include <utility>

#include "common/directory.h"
#include "common/replica_router.h"
#include "storage_node/down_nodes.h"

namespace quorumkv {

class NodeRoutingSource final : public RoutingSource {
 public:
  // Pointers must outlive the source.
  NodeRoutingSource(const DirectoryHolder* directory, const DownNodes* down,
                    std::function<void()> request_refresh)
      : directory_(directory),
        down_(down),
        request_refresh_(std::move(request_refresh)) {}

  DirectoryPtr directory() const override { return directory_->Get(); }
  bool IsDown(const std::string& node_id) const override {
    return down_->IsDown(node_id);
  }
  void Refresh(absl::Time, std::function<void(absl::Status)> done) override {
    request_refresh_();
    done(absl::OkStatus());
  }
  absl::Status NotFormed() const override {
    return absl::UnavailableError(
        "the cluster is not formed yet: too few storage nodes have "
        "registered with the master");
  }

 private:
  const DirectoryHolder* const directory_;
  const DownNodes* const down_;
  const std::function<void()> request_refresh_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_NODE_ROUTING_SOURCE_H_
