#include "master/master.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/address.h"
#include "common/daemon_security.h"
#include "common/data_dir.h"
#include "common/grpc_util.h"
#include "common/hash.h"
#include "common/limits.h"
#include "common/logging.h"
#include "common/request_metrics.h"
#include "common/server_base.h"
#include "common/status_macros.h"
#include "master/directory_manager.h"
#include "master/etcd/etcd_client.h"
#include "master/etcd/etcd_follower.h"
#include "master/etcd/etcd_store.h"
#include "master/etcd/leader_election.h"
#include "master/etcd/master_roster.h"
#include "master/leader_client.h"
#include "master/leader_publisher.h"
#include "master/leadership.h"
#include "master/local_directory_store.h"
#include "master/directory_watch.h"
#include "master/anti_entropy_scheduler.h"
#include "master/cluster_status.h"
#include "master/master_metrics.h"
#include "master/status_page.h"
#include "master/master_service.h"
#include "master/membership.h"
#include "master/move_tracker.h"
#include "master/relay.h"

namespace quorumkv {
namespace {

// How long a WatchDirectory poll waits for a change before it answers
// empty; well inside the callers' deadlines.
constexpr absl::Duration kWatchWait = absl::Seconds(5);

}  // namespace

absl::Status MasterOptions::Validate() const {
  RETURN_IF_ERROR(ValidateAddress("--listen", listen, /*allow_port_zero=*/true));
  if (!http_listen.empty()) {
    RETURN_IF_ERROR(
        ValidateAddress("--http_listen", http_listen, /*allow_port_zero=*/true));
  }
  if (data_dir.empty()) return absl::InvalidArgumentError("--data_dir is required");
  for (const std::string& prefix : linearizable_prefixes) {
    if (prefix.empty()) {
      return absl::InvalidArgumentError(
          "--linearizable_prefixes has an empty prefix (give PREFIX,PREFIX,...)");
    }
    if (prefix.size() > kMaxKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--linearizable_prefixes: a prefix of ", prefix.size(),
          " bytes is over the key limit of ", kMaxKeyBytes));
    }
  }
  if (replication < 1 || replication > 15) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--replication=", replication, " is outside 1..15"));
  }
  if (partitions < 1 || partitions > 65536) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--partitions=", partitions, " is outside 1..65536"));
  }
  if (key_hash == KEY_HASH_REDIS_SLOTS && partitions > kRedisSlots) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--partitions=", partitions, " is over ", kRedisSlots,
        ", the most --key_hash=redis_slots (the default) can cut Redis's "
        "slots into; give --key_hash=xxh3 for more partitions"));
  }
  if (EffectiveInitialNodes() < replication) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--initial_nodes=", initial_nodes, " is below --replication=",
        replication, ": every partition needs N distinct nodes"));
  }
  if (node_down_after <= absl::ZeroDuration() ||
      replace_after <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--node_down_after and --replace_after must be positive");
  }
  if (max_moves_per_node < 1) {
    return absl::InvalidArgumentError("--max_moves_per_node must be at least 1");
  }
  if (move_check_interval <= absl::ZeroDuration() ||
      move_stall_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "the move check interval and stall timeout must be positive");
  }
  if (anti_entropy_interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--anti_entropy_interval must not be negative");
  }
  if (!advertise.empty()) {
    RETURN_IF_ERROR(ValidateAddress("--advertise", advertise));
  }
  if (!etcd.empty()) {
    RETURN_IF_ERROR(ParseAddressList("--etcd", etcd).status());
    if (etcd_prefix.empty() || etcd_prefix[0] != '/' ||
        etcd_prefix.back() == '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          "--etcd_prefix='", etcd_prefix,
          "' must start with '/' and not end with one (e.g. /quorumkv)"));
    }
    if (master_lease < absl::Seconds(2)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--master_lease=", absl::FormatDuration(master_lease),
          " is below 2s (etcd's leases count whole seconds)"));
    }
    if (advertise.empty() && IsWildcardAddress(listen)) {
      return absl::InvalidArgumentError(
          "--listen names every interface: with --etcd, give --advertise "
          "(the address other masters, nodes and clients reach this one at)");
    }
  }
  return absl::OkStatus();
}

// Members in dependency order (see StorageNode::Impl).
struct Master::Impl {
  MasterOptions options;
  DaemonSecurity security;  // --tls_dir, --auth_token_file
  // The data dir's directory: the embedded master's store; with --etcd,
  // only what a cluster moving to etcd is imported from.
  std::unique_ptr<LocalDirectoryStore> local_store;
  // With --etcd.
  std::unique_ptr<EtcdClient> etcd;
  std::unique_ptr<LeaderElection> election;
  std::unique_ptr<EtcdStore> etcd_store;
  // Without it.
  std::unique_ptr<SoleMaster> sole;
  Leadership* leadership = nullptr;  // election or sole
  DirectoryStore* store = nullptr;   // etcd_store or local_store
  std::unique_ptr<DirectoryManager> directory;
  DirectoryHistory history;  // what it published last, for deltas
  std::unique_ptr<Membership> membership;
  std::unique_ptr<AntiEntropyScheduler> anti_entropy;
  std::unique_ptr<MoveTracker> moves;  // tells anti_entropy what it cancels
  std::unique_ptr<DirectoryWatch> watch;
  std::unique_ptr<ClusterStatusReporter> status;
  std::unique_ptr<LeaderClient> leader_client;  // with --etcd
  std::unique_ptr<MasterServiceImpl> master_service;
  std::unique_ptr<RequestMetrics> request_metrics;
  std::unique_ptr<RelayKvService> relay;
  std::unique_ptr<LeaderPublisher> publisher;  // with --etcd
  std::unique_ptr<EtcdFollower> follower;      // with --etcd
  std::unique_ptr<MasterRoster> roster;        // with --etcd
  // Last: its servers call into everything above.
  ServerBase base{"master"};

  // FAILED_PRECONDITION naming both clusters when etcd's directory is
  // another cluster's than the one in this master's data dir.
  absl::Status CheckSameCluster(const std::optional<Directory>& stored,
                                const std::optional<Directory>& local) const {
    const std::string ours =
        local && local->assignments_size() > 0 ? local->cluster_id() : "";
    if (!stored || ours.empty() || stored->cluster_id().empty() ||
        stored->cluster_id() == ours) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "etcd prefix ", options.etcd_prefix, " holds cluster ",
        stored->cluster_id(), ", but this master's data dir ",
        options.data_dir, " holds cluster ", ours,
        ": give each cluster a prefix of its own (--etcd_prefix)"));
  }

  // This master was elected at `term`: it takes the directory from etcd,
  // or from its data dir when etcd holds none yet, and leads from there.
  absl::Status OnElected(uint64_t term) {
    ASSIGN_OR_RETURN(std::optional<Directory> stored, etcd_store->Load());
    ASSIGN_OR_RETURN(std::optional<Directory> local, local_store->Load());
    const std::string ours =
        local && local->assignments_size() > 0 ? local->cluster_id() : "";
    RETURN_IF_ERROR(CheckSameCluster(stored, local));
    const bool import = !stored && !ours.empty();
    RETURN_IF_ERROR(directory->TakeOver(term, import ? local : std::nullopt));
    if (import) {
      QKV_LOG(INFO) << "imported the directory of cluster " << ours
                    << " (epoch " << local->epoch() << ") from "
                    << options.data_dir << " into etcd prefix "
                    << options.etcd_prefix;
    }
    membership->Lead();
    ASSIGN_OR_RETURN(std::optional<AntiEntropyProgress> progress,
                     etcd_store->LoadAntiEntropy());
    if (progress) anti_entropy->Import(*progress);
    moves->Wake();
    return absl::OkStatus();
  }

  // Every master and its role, for the status page: those in etcd's
  // roster (and this one, should it not be there yet), or this master
  // alone when it is the embedded one.
  std::vector<MastersResponse> Masters() const {
    std::vector<std::string> addresses;
    if (roster) addresses = roster->Masters();
    const std::string self = leadership->self();
    if (!self.empty() &&
        std::find(addresses.begin(), addresses.end(), self) == addresses.end()) {
      addresses.push_back(self);
      std::sort(addresses.begin(), addresses.end());
    }
    const std::string leader = leadership->leader();
    std::vector<MastersResponse> masters;
    for (const std::string& address : addresses) {
      MastersResponse& m = masters.emplace_back();
      m.set_address(address);
      m.set_role(address == leader ? "leader" : "standby");
      m.set_term(leadership->term());
      m.set_leader(leader);
    }
    return masters;
  }

  // This master no longer leads: it follows the states it last held until
  // the new leader publishes its own.
  void OnDeposed() { membership->Follow(membership->UpNow(absl::Now())); }

  void Stop() {
    base.Stop(
        [this] {
          if (roster) roster->Stop();
          if (follower) follower->Stop();
          if (publisher) publisher->Stop();
          // Resigns: a standby leads at once rather than after the lease.
          if (election) election->Stop();
          moves->Stop();
          watch->Close();
          relay->CloseStreams();
        },
        [this] { relay->WaitIdle(); });
  }
};

absl::StatusOr<std::unique_ptr<Master>> Master::Start(
    const MasterOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  RETURN_IF_ERROR(OpenDataDir(options.data_dir, "master").status());
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  ASSIGN_OR_RETURN(impl->security, DaemonSecurity::Load(
                                       options.tls_dir, options.auth_token_file));
  ASSIGN_OR_RETURN(impl->local_store,
                   LocalDirectoryStore::Open(
                       (std::filesystem::path(options.data_dir) / "db").string()));
  Impl* raw = impl.get();
  const bool replicated = !options.etcd.empty();
  if (replicated) {
    ASSIGN_OR_RETURN(impl->etcd, EtcdClient::Create(options.etcd));
    impl->election = std::make_unique<LeaderElection>(
        impl->etcd.get(), options.etcd_prefix + "/leader", options.master_lease,
        LeaderElection::Callbacks{
            [raw](uint64_t term) { return raw->OnElected(term); },
            [raw](const std::string&) { raw->OnDeposed(); }});
    impl->leadership = impl->election.get();
    impl->etcd_store = std::make_unique<EtcdStore>(
        impl->etcd.get(), options.etcd_prefix, impl->leadership);
    impl->store = impl->etcd_store.get();
    // Refused at once when etcd answers and holds another cluster; checked
    // again when elected, should etcd not answer now.
    absl::StatusOr<std::optional<Directory>> stored = impl->etcd_store->Load();
    if (stored.ok()) {
      ASSIGN_OR_RETURN(std::optional<Directory> local, impl->local_store->Load());
      RETURN_IF_ERROR(impl->CheckSameCluster(*stored, local));
    } else {
      QKV_LOG(WARNING) << "cannot read etcd yet (" << stored.status().message()
                       << "); retrying in the background";
    }
  } else {
    impl->sole = std::make_unique<SoleMaster>();
    impl->leadership = impl->sole.get();
    impl->store = impl->local_store.get();
  }
  // Replicated masters take the directory from etcd once they follow or
  // lead (etcd may not answer yet).
  ASSIGN_OR_RETURN(impl->directory,
                   DirectoryManager::Create(
                       impl->store, impl->leadership, options.partitions,
                       options.replication, options.key_hash,
                       options.EffectiveInitialNodes(),
                       options.linearizable_prefixes, /*load=*/!replicated));
  impl->membership = std::make_unique<Membership>(options.node_down_after);
  for (const NodeDescriptor& node : impl->directory->Get()->proto().nodes()) {
    impl->membership->AddKnown(node);
  }
  // A standby routes by the states the leader publishes: none yet.
  if (replicated) impl->membership->Follow(NodeStates());
  impl->anti_entropy = std::make_unique<AntiEntropyScheduler>(
      options.anti_entropy_interval, options.stream_rate);
  MoveTrackerOptions move_options;
  move_options.node_down_after = options.node_down_after;
  move_options.replace_after = options.replace_after;
  move_options.max_moves_per_node = options.max_moves_per_node;
  move_options.stream_rate = options.stream_rate;
  move_options.interval = options.move_check_interval;
  move_options.stall_timeout = options.move_stall_timeout;
  move_options.avoid_after_cancel = options.move_avoid_after_cancel;
  impl->moves = std::make_unique<MoveTracker>(
      move_options, impl->directory.get(), impl->membership.get(),
      impl->leadership);
  impl->watch = std::make_unique<DirectoryWatch>(kWatchWait);
  DirectoryWatch* watch = impl->watch.get();
  DirectoryHistory* history = &impl->history;
  history->Add(impl->directory->Get());
  impl->directory->SetListener(
      [watch, history](const DirectoryPtr& directory) {
        history->Add(directory);
        watch->Notify(directory);
      });
  AntiEntropyScheduler* anti_entropy = impl->anti_entropy.get();
  impl->moves->SetCancelListener([anti_entropy](uint32_t partition) {
    anti_entropy->MarkDiverged(partition, absl::Now());
  });
  impl->status = std::make_unique<ClusterStatusReporter>(
      impl->leadership, impl->membership.get(), impl->directory.get(),
      impl->moves.get(), impl->anti_entropy.get(), options.node_down_after,
      options.replace_after);
  if (replicated) {
    impl->leader_client = std::make_unique<LeaderClient>(
        impl->leadership, impl->security.outgoing());
  }
  impl->master_service = std::make_unique<MasterServiceImpl>(
      impl->leadership, impl->leader_client.get(), impl->membership.get(),
      impl->directory.get(), &impl->history, impl->moves.get(),
      impl->watch.get(),
      impl->anti_entropy.get(), impl->status.get(),
      impl->security.tokens.get());
  impl->request_metrics =
      std::make_unique<RequestMetrics>(impl->base.metrics().registry());
  impl->relay = std::make_unique<RelayKvService>(
      impl->directory.get(), impl->membership.get(),
      impl->request_metrics.get(), impl->security);
  AddMasterMetrics(impl->status.get(), impl->moves.get(), impl->leadership,
                   &impl->base.metrics());

  impl->base.SetSecurity(&impl->security);
  RETURN_IF_ERROR(impl->base.Serve(
      options.listen, {impl->master_service.get(), impl->relay.get()},
      options.http_listen,
      StatusPageRoutes(impl->status.get(), [raw] { return raw->Masters(); })));
  const std::string address =
      options.advertise.empty() ? impl->base.address() : options.advertise;
  if (replicated) {
    impl->publisher = std::make_unique<LeaderPublisher>(
        impl->leadership, impl->membership.get(), impl->anti_entropy.get(),
        impl->store);
    impl->follower = std::make_unique<EtcdFollower>(
        impl->etcd.get(), impl->etcd_store.get(), impl->directory.get(),
        impl->membership.get(), impl->election.get());
    impl->follower->Start();
    impl->publisher->Start();
    impl->election->Start(address);
    impl->roster = std::make_unique<MasterRoster>(
        impl->etcd.get(), options.etcd_prefix, impl->election.get());
    impl->roster->Start();
  } else {
    impl->sole->SetAddress(address);
  }
  impl->moves->Start();
  QKV_LOG(INFO) << "master serving on " << address << " ("
                << (replicated ? absl::StrCat("directory in etcd ",
                                              options.etcd, " under ",
                                              options.etcd_prefix,
                                              "; electing a leader")
                               : absl::StrCat("data ", options.data_dir,
                                              ", directory epoch ",
                                              impl->directory->Get()->epoch()))
                << ")"
                << (options.http_listen.empty()
                        ? ""
                        : absl::StrCat("; status page ",
                                       impl->security.tls ? "https://" : "http://",
                                       impl->base.http_address(), "/"));
  return std::unique_ptr<Master>(new Master(std::move(impl)));
}

Master::Master(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Master::~Master() { Shutdown(); }

absl::Status Master::Wait() { return impl_->base.Wait(); }

void Master::Shutdown() { impl_->Stop(); }
const std::string& Master::address() const { return impl_->base.address(); }
int Master::port() const { return impl_->base.port(); }
int Master::http_port() const { return impl_->base.http_port(); }
DirectoryPtr Master::directory() const { return impl_->directory->Get(); }
int Master::relays_in_flight() const { return impl_->relay->in_flight(); }
MoveTracker::Counters Master::move_counters() const {
  return impl_->moves->counters();
}

}  // namespace quorumkv
