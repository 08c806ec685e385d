#include "tests/mini_cluster.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace quorumkv {
namespace {

constexpr absl::Duration kStartDeadline = absl::Seconds(60);

}  // namespace

MiniCluster::MiniCluster(MiniClusterOptions options) : options_(options) {
  for (int i = 0; i < options_.nodes; ++i) {
    racks_.push_back(absl::StrCat("r", i % options_.racks + 1));
  }
  nodes_.resize(options_.nodes);
  ports_.resize(options_.nodes, 0);
  peer_factories_ = options_.peer_factories;
  peer_factories_.resize(options_.nodes);
}

MiniCluster::~MiniCluster() {
  for (auto& node : nodes_) node.reset();
  master_.reset();
}

absl::Status MiniCluster::StartMaster() {
  MasterOptions options;
  options.listen = absl::StrCat("127.0.0.1:", master_port_);
  options.data_dir = dir_.Sub("master");
  options.replication = options_.replication;
  options.partitions = options_.partitions;
  options.initial_nodes = options_.initial_nodes;
  options.node_down_after = options_.node_down_after;
  options.replace_after = options_.replace_after;
  options.max_moves_per_node = options_.max_moves_per_node;
  options.stream_rate = options_.stream_rate;
  options.move_check_interval = options_.move_check_interval;
  options.move_stall_timeout = options_.move_stall_timeout;
  options.move_avoid_after_cancel = options_.move_avoid_after_cancel;
  options.anti_entropy_interval = options_.anti_entropy_interval;
  options.linearizable_prefixes = options_.linearizable_prefixes;
  if (options_.http) options.http_listen = "127.0.0.1:0";
  options.auth_token_file = options_.auth_token_file;
  ASSIGN_OR_RETURN(master_, Master::Start(options));
  master_port_ = master_->port();
  master_address_ = master_->address();
  return absl::OkStatus();
}

absl::Status MiniCluster::StartNode(int i) {
  StorageNodeOptions options;
  options.listen = absl::StrCat("127.0.0.1:", ports_[i]);
  options.master = master_address_;
  options.rack = racks_[i];
  options.data_dir = node_data_dir(i);
  options.heartbeat_interval = options_.heartbeat_interval;
  options.hint_replay_interval = options_.hint_replay_interval;
  options.partition_drop_grace = options_.partition_drop_grace;
  options.tombstone_grace = options_.tombstone_grace;
  options.hint_limits.window = options_.hint_window;
  options.peer_proxy_factory = peer_factories_[i];
  if (options_.http) options.http_listen = "127.0.0.1:0";
  options.auth_token_file = options_.auth_token_file;
  if (options_.doors) {
    options.redis_listen = "127.0.0.1:0";
    options.memcached_listen = "127.0.0.1:0";
    options.memcached_flush_all = true;
  }
  ASSIGN_OR_RETURN(nodes_[i], StorageNode::Start(options));
  ports_[i] = nodes_[i]->port();
  return absl::OkStatus();
}

absl::Status MiniCluster::StartProcesses() {
  RETURN_IF_ERROR(StartMaster());
  for (int i = 0; i < num_nodes(); ++i) RETURN_IF_ERROR(StartNode(i));
  return absl::OkStatus();
}

absl::Status MiniCluster::Start() {
  RETURN_IF_ERROR(StartProcesses());
  // Generous: CI runs beside other work on two cores.
  if (!WaitFor([&] { return master_->directory()->formed(); },
               kStartDeadline)) {
    return absl::DeadlineExceededError(absl::StrCat(
        "directory not formed after ", absl::FormatDuration(kStartDeadline)));
  }
  return WaitForNodesToCatchUp();
}

absl::Status MiniCluster::WaitForNodesToCatchUp() {
  const bool caught_up = WaitFor(
      [&] {
        const uint64_t epoch = master_->directory()->epoch();
        for (const auto& node : nodes_) {
          if (node != nullptr && node->directory()->epoch() != epoch) {
            return false;
          }
        }
        return true;
      },
      kStartDeadline);
  return caught_up ? absl::OkStatus()
                   : absl::DeadlineExceededError(
                         "nodes did not reach the master's epoch");
}

int MiniCluster::IndexOf(const std::string& id) const {
  for (int i = 0; i < num_nodes(); ++i) {
    if (nodes_[i] != nullptr && nodes_[i]->id() == id) return i;
  }
  return -1;
}

void MiniCluster::StopNode(int i) { nodes_[i].reset(); }

absl::Status MiniCluster::RestartNode(int i) {
  nodes_[i].reset();
  RETURN_IF_ERROR(StartNode(i));
  return WaitFor([&] { return nodes_[i]->registered(); })
             ? absl::OkStatus()
             : absl::DeadlineExceededError("node did not register again");
}

void MiniCluster::StopMaster() { master_.reset(); }

absl::Status MiniCluster::RestartMaster() {
  master_.reset();
  return StartMaster();
}

absl::StatusOr<int> MiniCluster::AddNode(const std::string& rack,
                                         PeerProxyFactory peers) {
  racks_.push_back(rack);
  ports_.push_back(0);
  peer_factories_.push_back(std::move(peers));
  nodes_.emplace_back();
  const int i = num_nodes() - 1;
  RETURN_IF_ERROR(StartNode(i));
  return i;
}

absl::StatusOr<std::unique_ptr<Client>> MiniCluster::NewClient(
    QueryMode mode) const {
  ClientOptions options;
  options.master = master_address_;
  options.mode = mode;
  return Client::Create(options);
}

}  // namespace quorumkv
