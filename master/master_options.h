// Options of the master, filled from kv_master's flags in master_main.cc and
// set directly by in-process tests.
#ifndef QUORUMKV_MASTER_MASTER_OPTIONS_H_
#define QUORUMKV_MASTER_MASTER_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace quorumkv {

struct MasterOptions {
  // host:port to serve on; port 0 picks a free port (tests).
  std::string listen = "127.0.0.1:7000";
  // host:port of the HTTP endpoint (status page, /api/status, /metrics,
  // /healthz); empty: none. Port 0 picks one.
  std::string http_listen;
  // --auth_token_file (common/auth_tokens.h); empty: no tokens needed.
  std::string auth_token_file;
  // --tls_dir (common/tls.h): mutual TLS on every connection, HTTPS;
  // empty: plaintext.
  std::string tls_dir;
  // Holds IDENTITY and the RocksDB database with the directory (with
  // --etcd: only what a cluster moving to etcd imports from).
  std::string data_dir;
  // --etcd: HOST:PORT[,HOST:PORT...] of an etcd 3 cluster. Empty: the
  // embedded default (one master, the directory in its data dir). Set: any
  // number of masters with the same endpoints and prefix elect a leader
  // and keep everything they must not lose in etcd.
  std::string etcd;
  // --etcd_prefix: where in etcd this cluster's keys live.
  std::string etcd_prefix = "/quorumkv";
  // --master_lease: the leader's etcd lease. A leader that cannot renew it
  // stops leading before it runs out; a standby leads within about this
  // long after the leader dies.
  absl::Duration master_lease = absl::Seconds(5);
  // --advertise: host:port others reach this master at (the leader key
  // holds it). Empty: the address it listens on.
  std::string advertise;
  // N. Fixed when the cluster is created; a restarted master keeps the
  // stored value.
  uint32_t replication = 3;
  // P. Fixed when the cluster is created, like N.
  uint32_t partitions = 64;
  // --key_hash: how keys map to partitions, fixed when the cluster is
  // created (a stored cluster keeps its own). Redis's slots by default, so
  // that cluster-aware Redis clients route keys themselves.
  KeyHash key_hash = KEY_HASH_REDIS_SLOTS;
  // Registrations needed before the directory is formed; 0 means N.
  uint32_t initial_nodes = 0;
  // A node without a heartbeat for this long is DOWN.
  absl::Duration node_down_after = absl::Seconds(5);
  // A node DOWN for this long has its partitions re-replicated elsewhere.
  absl::Duration replace_after = absl::Seconds(60);
  // Moves in flight that may involve one node at a time.
  uint32_t max_moves_per_node = 2;
  // Bytes per second each partition stream may use; 0: unlimited.
  uint64_t stream_rate = 64ull << 20;
  // How often the master looks for moves to start, switch or cancel.
  absl::Duration move_check_interval = absl::Seconds(1);
  // A move whose destination reports no progress for this long is cancelled.
  absl::Duration move_stall_timeout = absl::Seconds(60);
  // The destination of a cancelled move receives no new move for this long.
  absl::Duration move_avoid_after_cancel = absl::Seconds(30);
  // A partition's replicas are compared again once this long has passed
  // since its last completed anti-entropy pass (--anti_entropy_interval).
  absl::Duration anti_entropy_interval = absl::Minutes(10);

  // --linearizable_prefixes: keys under these prefixes take compare-and-set
  // and counters, and all their writes go through Paxos. Every master of a
  // cluster should be given the same; the leader's win.
  std::vector<std::string> linearizable_prefixes;

  uint32_t EffectiveInitialNodes() const {
    return initial_nodes == 0 ? replication : initial_nodes;
  }
  // INVALID_ARGUMENT naming the first bad option.
  absl::Status Validate() const;
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_MASTER_OPTIONS_H_
