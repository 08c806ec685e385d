#include "tests/process_cluster.h"

#include <fcntl.h>
#include <spawn.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "quorumkv/client.h"

namespace quorumkv {

ProcessClusterOptions SmallClusterOptions(const std::string& bin_dir,
                                          int partitions) {
  ProcessClusterOptions options;
  options.bin_dir = bin_dir;
  options.nodes = 3;
  options.racks = 3;
  options.master_flags = {absl::StrCat("--partitions=", partitions)};
  options.node_flags = {"--heartbeat_interval=200ms"};
  return options;
}

ProcessCluster::ProcessCluster(ProcessClusterOptions options)
    : options_(std::move(options)) {
  std::vector<std::string> addresses;
  for (int i = 0; i < options_.masters; ++i) {
    Process master;
    master.name = i == 0 ? "master" : absl::StrCat("master", i);
    master.port = PickFreePort();
    addresses.push_back(absl::StrCat("127.0.0.1:", master.port));
    masters_.push_back(master);
  }
  master_address_ = absl::StrJoin(addresses, ",");
  for (int i = 0; i < options_.nodes; ++i) {
    Process node;
    node.name = absl::StrCat("node", i);
    node.rack = absl::StrCat("r", i % options_.racks + 1);
    node.port = PickFreePort();
    if (options_.doors) {
      node.redis_port = PickFreePort();
      node.memcached_port = PickFreePort();
    }
    nodes_.push_back(node);
  }
}

ProcessCluster::~ProcessCluster() {
  for (Process& node : nodes_) Kill(node);
  for (Process& master : masters_) Kill(master);
}

std::string ProcessCluster::master_address(int i) const {
  return absl::StrCat("127.0.0.1:", masters_[i].port);
}

std::vector<std::string> ProcessCluster::MasterArgs(int i) const {
  std::vector<std::string> args = {
      options_.bin_dir + "/kv_master", "--listen=" + master_address(i),
      "--data_dir=" + dir_.Sub(masters_[i].name),
      absl::StrCat("--initial_nodes=", options_.nodes)};
  if (!options_.etcd.empty()) {
    args.push_back("--etcd=" + options_.etcd);
    args.push_back("--etcd_prefix=/quorumkv-test");
  }
  if (!options_.tls_root.empty()) {
    args.push_back("--tls_dir=" + options_.tls_root + "/master");
  }
  args.insert(args.end(), options_.master_flags.begin(),
              options_.master_flags.end());
  args.insert(args.end(), masters_[i].extra_flags.begin(),
              masters_[i].extra_flags.end());
  return args;
}

std::vector<std::string> ProcessCluster::NodeArgs(int i) const {
  std::vector<std::string> args = {
      options_.bin_dir + "/kv_storage_node",
      absl::StrCat("--listen=127.0.0.1:", nodes_[i].port),
      "--master=" + master_address_, "--rack=" + nodes_[i].rack,
      "--data_dir=" + dir_.Sub(nodes_[i].name)};
  if (!options_.tls_root.empty()) {
    args.push_back(absl::StrCat("--tls_dir=", options_.tls_root, "/node", i));
  }
  if (options_.doors) {
    args.push_back(absl::StrCat("--redis_listen=127.0.0.1:", nodes_[i].redis_port));
    args.push_back(
        absl::StrCat("--memcached_listen=127.0.0.1:", nodes_[i].memcached_port));
  }
  args.insert(args.end(), options_.node_flags.begin(),
              options_.node_flags.end());
  return args;
}

absl::Status ProcessCluster::Spawn(Process& process,
                                   const std::vector<std::string>& args) {
  absl::StatusOr<pid_t> pid =
      SpawnProcess(args, dir_.Sub(process.name + ".log"));
  if (!pid.ok()) return pid.status();
  process.pid = *pid;
  process.paused = false;
  return absl::OkStatus();
}

void ProcessCluster::Kill(Process& process) {
  KillProcess(&process.pid);
  process.paused = false;
}

absl::Status ProcessCluster::Start(absl::Duration timeout) {
  for (int i = 0; i < num_masters(); ++i) {
    if (auto s = Spawn(masters_[i], MasterArgs(i)); !s.ok()) return s;
  }
  for (int i = 0; i < num_nodes(); ++i) {
    if (auto s = Spawn(nodes_[i], NodeArgs(i)); !s.ok()) return s;
  }
  auto client = NewClient(QueryMode::kIterative);
  if (!client.ok()) return client.status();
  const bool up = WaitFor(
      [&] {
        auto nodes = (*client)->Nodes();
        if (!nodes.ok() || !nodes->formed ||
            static_cast<int>(nodes->nodes.size()) != num_nodes()) {
          return false;
        }
        for (const NodeSummary& n : nodes->nodes) {
          if (n.node.state != "UP") return false;
        }
        return true;
      },
      timeout);
  return up ? absl::OkStatus()
            : absl::DeadlineExceededError("cluster did not form: " + Logs());
}

absl::StatusOr<std::unique_ptr<Client>> ProcessCluster::NewClient(
    QueryMode mode, absl::Duration timeout) const {
  ClientOptions options;
  options.master = master_address_;
  options.mode = mode;
  options.timeout = timeout;
  options.token = options_.token;
  if (!options_.tls_root.empty()) options.tls_dir = options_.tls_root + "/client";
  return Client::Create(options);
}

void ProcessCluster::KillNode(int i) { Kill(nodes_[i]); }

void ProcessCluster::Pause(Process& process, bool paused) {
  if (process.pid > 0 && kill(process.pid, paused ? SIGSTOP : SIGCONT) == 0) {
    process.paused = paused;
  }
}

void ProcessCluster::PauseNode(int i) { Pause(nodes_[i], true); }

void ProcessCluster::ResumeNode(int i) { Pause(nodes_[i], false); }

absl::Status ProcessCluster::RestartNode(int i) {
  Kill(nodes_[i]);
  return Spawn(nodes_[i], NodeArgs(i));
}

void ProcessCluster::KillMaster(int i) { Kill(masters_[i]); }

absl::Status ProcessCluster::RestartMaster(int i) {
  Kill(masters_[i]);
  return Spawn(masters_[i], MasterArgs(i));
}

absl::Status ProcessCluster::RestartMasterWith(
    int i, const std::vector<std::string>& flags) {
  Kill(masters_[i]);
  masters_[i].extra_flags = flags;
  return Spawn(masters_[i], MasterArgs(i));
}

int ProcessCluster::MasterExitStatus(int i) {
  Process& master = masters_[i];
  if (master.pid <= 0) return -1;
  int status = 0;
  if (waitpid(master.pid, &status, WNOHANG) != master.pid) return -1;
  master.pid = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ProcessCluster::PauseMaster(int i) { Pause(masters_[i], true); }

void ProcessCluster::ResumeMaster(int i) { Pause(masters_[i], false); }

int ProcessCluster::LeaderIndex() const {
  for (int i = 0; i < num_masters(); ++i) {
    if (masters_[i].pid <= 0 || masters_[i].paused) continue;
    ClientOptions options;
    options.master = master_address(i);
    options.timeout = absl::Seconds(1);
    options.token = options_.token;
    auto client = Client::Create(options);
    if (!client.ok()) continue;
    auto masters = (*client)->Masters();
    if (!masters.masters.empty() && masters.masters[0].role == "leader") {
      return i;
    }
  }
  return -1;
}

std::string ProcessCluster::node_address(int i) const {
  return absl::StrCat("127.0.0.1:", nodes_[i].port);
}

std::string ProcessCluster::MasterLog(int i) const {
  return ReadFile(dir_.Sub(masters_[i].name + ".log"));
}

std::string ProcessCluster::Logs() const {
  std::string out;
  for (int i = 0; i < num_masters(); ++i) {
    absl::StrAppend(&out, "--- ", masters_[i].name, "\n", MasterLog(i));
  }
  for (const Process& p : nodes_) {
    absl::StrAppend(&out, "--- ", p.name, "\n", ReadFile(dir_.Sub(p.name + ".log")));
  }
  return out;
}

}  // namespace quorumkv
