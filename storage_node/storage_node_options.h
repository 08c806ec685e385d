// Options of a storage node, filled from kv_storage_node's flags in
// storage_node_main.cc and set directly by in-process tests.
#ifndef QUORUMKV_STORAGE_NODE_STORAGE_NODE_OPTIONS_H_
#define QUORUMKV_STORAGE_NODE_STORAGE_NODE_OPTIONS_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "storage_node/hints.h"
#include "storage_node/peer.h"

namespace quorumkv {

struct StorageNodeOptions {
  // host:port to serve on; port 0 picks a free port (tests).
  std::string listen = "127.0.0.1:7101";
  // host:port of the HTTP endpoint (/metrics, /healthz); empty: none. Port
  // 0 picks one.
  std::string http_listen;
  // --redis_listen, --memcached_listen: host:port of the Redis (RESP) and
  // memcached front doors (doors/); empty: none. Port 0 picks one.
  std::string redis_listen;
  std::string memcached_listen;
  // --memcached_flush_all: the memcached door's flush_all deletes every
  // key of the cluster (off: refused).
  bool memcached_flush_all = false;
  // --auth_token_file: "ROLE TOKEN" lines (common/auth_tokens.h); empty:
  // no tokens needed.
  std::string auth_token_file;
  // --tls_dir (common/tls.h): mutual TLS on every connection, HTTPS;
  // empty: plaintext.
  std::string tls_dir;
  // host:port of the master, or of several (a,b,c: the leader and its
  // standbys, docs/operations.md).
  std::string master = "127.0.0.1:7000";
  // Failure domain; replicas of a partition go to distinct racks.
  std::string rack;
  // --name: what the operator calls this node; empty: the last part of
  // data_dir.
  std::string name;
  // --stay_after_removal: keep running, idle, once a decommission has
  // removed the node (by default it stops, exit 0).
  bool stay_after_removal = false;
  // Holds IDENTITY (the node id) and the RocksDB database.
  std::string data_dir;
  // Address others reach this node at; empty means the listen address (with
  // the port actually bound).
  std::string advertise;
  absl::Duration heartbeat_interval = absl::Seconds(1);
  // How often stored hints are offered to their replicas.
  absl::Duration hint_replay_interval = absl::Seconds(1);
  absl::Duration tombstone_grace = absl::Hours(24);
  // --hint_window, --max_hint_bytes (storage_node/hints.h).
  HintLimits hint_limits;
  // See EngineOptions::sync_writes.
  bool sync_writes = false;
  // --cache_size: the RAM tier (EngineOptions::cache_bytes); 0: the
  // default for the machine.
  uint64_t cache_bytes = 0;
  // How long a partition stays unheld before its rows are deleted, so that
  // reads already routed to this node finish.
  absl::Duration partition_drop_grace = absl::Seconds(5);
  // Makes the object under each peer; tests wrap the real one to drop,
  // delay or pause a peer. Empty: real gRPC.
  PeerProxyFactory peer_proxy_factory;
  // Tests: runs with the bound address as soon as the server answers, before
  // the node has registered, so a test can reach it in that window.
  std::function<void(const std::string& address)> serving_hook;

  // INVALID_ARGUMENT naming the first bad option.
  absl::Status Validate() const;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_STORAGE_NODE_OPTIONS_H_
