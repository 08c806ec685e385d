// An in-process QuorumKV cluster for tests: a real master and real storage
// nodes (real gRPC on 127.0.0.1, real RocksDB in a temp dir), which a test
// can stop, restart and extend. Not thread-safe: drive it from the test
// thread.
#ifndef QUORUMKV_TESTS_MINI_CLUSTER_H_
#define QUORUMKV_TESTS_MINI_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "quorumkv/client.h"
#include "master/master.h"
#include "storage_node/storage_node.h"
#include "tests/test_util.h"

namespace quorumkv {

struct MiniClusterOptions {
  int nodes = 3;
  // Node i goes to rack "r" + (i % racks + 1).
  int racks = 3;
  uint32_t replication = 3;
  uint32_t partitions = 16;
  uint32_t initial_nodes = 0;
  absl::Duration heartbeat_interval = absl::Milliseconds(100);
  absl::Duration hint_replay_interval = absl::Milliseconds(200);
  absl::Duration node_down_after = absl::Seconds(1);
  // Moves (docs/moves.md), quick for tests.
  absl::Duration replace_after = absl::Seconds(60);
  uint32_t max_moves_per_node = 2;
  uint64_t stream_rate = 0;  // unlimited
  absl::Duration move_check_interval = absl::Milliseconds(100);
  absl::Duration move_stall_timeout = absl::Seconds(10);
  absl::Duration move_avoid_after_cancel = absl::Seconds(30);
  absl::Duration partition_drop_grace = absl::Milliseconds(300);
  // Anti-entropy compares a partition again this long after the last pass.
  absl::Duration anti_entropy_interval = absl::Minutes(10);
  absl::Duration tombstone_grace = absl::Hours(24);
  // The master's --linearizable_prefixes.
  std::vector<std::string> linearizable_prefixes;
  // --hint_window of every node.
  absl::Duration hint_window = absl::Hours(3);
  // Serve HTTP (/metrics, /healthz, the master's status page) on a free
  // port of each daemon: Master::http_port(), StorageNode::http_port().
  bool http = false;
  // --auth_token_file of the master and every node; empty: none.
  std::string auth_token_file;
  // Every node serves the Redis and memcached front doors on free ports
  // (StorageNode::redis_port(), memcached_port()), flush_all enabled.
  bool doors = false;
  // Node i reaches its peers through peer_factories[i] when it is set
  // (tests/fault_injection.h); real gRPC otherwise.
  std::vector<PeerProxyFactory> peer_factories;
};

class MiniCluster {
 public:
  explicit MiniCluster(MiniClusterOptions options = {});
  ~MiniCluster();

  // Starts the master and the nodes, and waits until the directory is
  // formed and every node routes by the master's epoch.
  absl::Status Start();
  // Starts the master and the nodes without waiting for anything.
  absl::Status StartProcesses();
  // Waits until every running node holds the master's directory epoch.
  absl::Status WaitForNodesToCatchUp();

  Master* master() { return master_.get(); }
  const std::string& master_address() const { return master_address_; }
  StorageNode* node(int i) { return nodes_[i].get(); }
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  std::string node_data_dir(int i) const {
    return dir_.Sub("node" + std::to_string(i));
  }
  // Index of the node with `id`; -1 if none.
  int IndexOf(const std::string& id) const;

  // Stops node i (its data stays); RestartNode brings it back on the same
  // port and data dir.
  void StopNode(int i);
  absl::Status RestartNode(int i);
  void StopMaster();
  absl::Status RestartMaster();
  // Starts one more node on `rack`, its peers reached through `peers`
  // (tests/fault_injection.h) when given; returns its index.
  absl::StatusOr<int> AddNode(const std::string& rack,
                              PeerProxyFactory peers = {});

  absl::StatusOr<std::unique_ptr<Client>> NewClient(QueryMode mode) const;

 private:
  absl::Status StartMaster();
  absl::Status StartNode(int i);

  const MiniClusterOptions options_;
  TempDir dir_;
  std::unique_ptr<Master> master_;
  int master_port_ = 0;
  std::string master_address_;
  std::vector<std::unique_ptr<StorageNode>> nodes_;
  std::vector<int> ports_;
  std::vector<std::string> racks_;
  std::vector<PeerProxyFactory> peer_factories_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_TESTS_MINI_CLUSTER_H_
