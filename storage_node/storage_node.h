// A storage node: the server object that owns the engine, clock, directory
// copy, coordinator, services, heartbeater and hint replayer, and serves
// KvService and ReplicaService on one port. Used by kv_storage_node's main
// and, in process, by tests.
#ifndef QUORUMKV_STORAGE_NODE_STORAGE_NODE_H_
#define QUORUMKV_STORAGE_NODE_STORAGE_NODE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/directory.h"
#include "storage_node/engine.h"
#include "storage_node/storage_node_options.h"

namespace quorumkv {

class StorageNode {
 public:
  // Opens the data dir, binds the port, starts serving and starts
  // registering with the master (in the background: an unreachable master
  // is retried, not an error here).
  static absl::StatusOr<std::unique_ptr<StorageNode>> Start(
      const StorageNodeOptions& options);
  ~StorageNode();  // Shutdown()s.

  // Blocks until Shutdown() (then OK) or until the master refuses the node
  // for good (then that error; the caller shuts the node down).
  absl::Status Wait();
  // Stops serving (in-flight calls are cancelled after a short grace) and
  // background work. Idempotent; thread-safe.
  void Shutdown();

  const std::string& id() const;
  // The address the node advertises (the bound port filled in).
  const std::string& address() const;
  int port() const;
  // The bound --http_listen port; 0 without it.
  int http_port() const;
  // The bound front door ports (--redis_listen, --memcached_listen); 0
  // for a door not served.
  int redis_port() const;
  int memcached_port() const;
  bool registered() const;
  // The directory this node routes by.
  DirectoryPtr directory() const;
  // Whether the master's last heartbeat answer said `node_id` is DOWN:
  // writes then count it out of W without trying it.
  bool KnowsDown(const std::string& node_id) const;
  // For white-box tests: this node's engine.
  Engine* engine();

 private:
  struct Impl;
  explicit StorageNode(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_STORAGE_NODE_H_
