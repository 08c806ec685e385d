// A QuorumKV cluster of real processes on 127.0.0.1 for fault tests: one
// kv_master and storage nodes started from the built binaries, each on a
// free port with its own data dir and log file, which a test can kill -9,
// pause (SIGSTOP), resume and restart one at a time. Not thread-safe:
// drive it from one thread (the test's nemesis).
#ifndef QUORUMKV_TESTS_PROCESS_CLUSTER_H_
#define QUORUMKV_TESTS_PROCESS_CLUSTER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "quorumkv/client.h"
#include "absl/time/time.h"
#include "tests/test_util.h"

namespace quorumkv {

struct ProcessClusterOptions {
  std::string bin_dir;  // where kv_master and kv_storage_node are
  int nodes = 6;
  int racks = 3;  // node i goes to rack "r" + (i % racks + 1)
  std::vector<std::string> master_flags;  // e.g. "--node_down_after=2s"
  std::vector<std::string> node_flags;
  // The token Start() presents while it waits for the cluster (one the
  // daemons' --auth_token_file holds); empty when they need none.
  std::string token;
  // Mutual TLS: a directory as deploy/make-certs.sh makes it, with the
  // identities master, node0 .. node{nodes-1} and client; each daemon runs
  // with --tls_dir of its own, Start() waits as `client`. Empty: plaintext.
  std::string tls_root;
  // Replicated masters: `masters` of them on etcd at `etcd` (endpoints, as
  // EtcdCluster gives them); nodes and clients get the list of masters.
  int masters = 1;
  std::string etcd;
  // Each node serves the Redis and memcached front doors on free ports
  // (redis_port(i), memcached_port(i)).
  bool doors = false;
};

// The small cluster most real-process tests need: three nodes on three
// racks, `partitions` partitions, heartbeats every 200 ms.
ProcessClusterOptions SmallClusterOptions(const std::string& bin_dir,
                                          int partitions = 8);

class ProcessCluster {
 public:
  explicit ProcessCluster(ProcessClusterOptions options);
  // Kills every process still running.
  ~ProcessCluster();

  // Starts the master and the nodes and waits until the directory is
  // formed and every node is UP.
  absl::Status Start(absl::Duration timeout = absl::Seconds(60));

  // Every master's address, as a --master list ("a" with one master).
  const std::string& master_address() const { return master_address_; }
  std::string master_address(int i) const;
  int num_masters() const { return static_cast<int>(masters_.size()); }
  // The index of the master that says it leads; -1 when none does.
  int LeaderIndex() const;
  // A client of the cluster in `mode`, each request waiting `timeout`, with
  // the token and the TLS identity `client` the options name.
  absl::StatusOr<std::unique_ptr<Client>> NewClient(
      QueryMode mode, absl::Duration timeout = absl::Seconds(2)) const;
  std::string node_address(int i) const;
  // The doors of node i (options.doors); 0 without.
  int redis_port(int i) const { return nodes_[i].redis_port; }
  int memcached_port(int i) const { return nodes_[i].memcached_port; }
  std::string node_data_dir(int i) const { return dir_.Sub(nodes_[i].name); }
  // What master `i` has logged so far.
  std::string MasterLog(int i = 0) const;
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  const std::string& rack(int i) const { return nodes_[i].rack; }
  bool running(int i) const { return nodes_[i].pid > 0; }
  bool paused(int i) const { return nodes_[i].paused; }

  void KillNode(int i);                // SIGKILL, and reaped
  void PauseNode(int i);               // SIGSTOP
  void ResumeNode(int i);              // SIGCONT
  absl::Status RestartNode(int i);     // same port and data dir
  void KillMaster(int i = 0);
  absl::Status RestartMaster(int i = 0);
  // Master `i` again, with `flags` after the options' (for good: later
  // restarts keep them), e.g. a single master moving to etcd.
  absl::Status RestartMasterWith(int i, const std::vector<std::string>& flags);
  // The exit status of master `i` once it has exited (reaped), or -1 while
  // it runs.
  int MasterExitStatus(int i);
  void PauseMaster(int i);   // SIGSTOP
  void ResumeMaster(int i);  // SIGCONT
  bool master_running(int i) const { return masters_[i].pid > 0; }
  // Every process's log, for a failing test to print.
  std::string Logs() const;

 private:
  struct Process {
    std::string name;
    std::string rack;
    int port = 0;
    int redis_port = 0;      // with doors
    int memcached_port = 0;  // with doors
    pid_t pid = -1;
    bool paused = false;
    std::vector<std::string> extra_flags;
  };
  absl::Status Spawn(Process& process, const std::vector<std::string>& args);
  void Kill(Process& process);
  // SIGSTOP (`paused`) or SIGCONT.
  void Pause(Process& process, bool paused);
  std::vector<std::string> NodeArgs(int i) const;
  std::vector<std::string> MasterArgs(int i) const;

  const ProcessClusterOptions options_;
  TempDir dir_;
  std::vector<Process> masters_;
  std::string master_address_;  // the list
  std::vector<Process> nodes_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_TESTS_PROCESS_CLUSTER_H_
