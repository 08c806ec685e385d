#include "storage_node/storage_node.h"
#include "storage_node/term_fence.h"

#include <atomic>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/master_set.h"
#include "common/address.h"
#include "common/byte_size.h"
#include "common/daemon_security.h"
#include "common/data_dir.h"
#include "common/grpc_util.h"
#include "common/hlc.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/request_metrics.h"
#include "common/server_base.h"
#include "storage_node/anti_entropy.h"
#include "storage_node/cluster_identity.h"
#include "storage_node/coordinator.h"
#include "storage_node/directory_watcher.h"
#include "storage_node/heartbeater.h"
#include "storage_node/hint_replayer.h"
#include "storage_node/hint_writer.h"
#include "storage_node/kv_service.h"
#include "storage_node/node_routing_source.h"
#include "doors/front_doors.h"
#include "storage_node/load_tracker.h"
#include "storage_node/node_metrics.h"
#include "storage_node/expiry_sweeper.h"
#include "storage_node/partition_cleaner.h"
#include "storage_node/partition_receiver.h"
#include "storage_node/replica_service.h"

namespace quorumkv {

absl::Status StorageNodeOptions::Validate() const {
  RETURN_IF_ERROR(ValidateAddress("--listen", listen, /*allow_port_zero=*/true));
  RETURN_IF_ERROR(ParseAddressList("--master", master).status());
  if (!http_listen.empty()) {
    RETURN_IF_ERROR(
        ValidateAddress("--http_listen", http_listen, /*allow_port_zero=*/true));
  }
  if (!redis_listen.empty()) {
    RETURN_IF_ERROR(ValidateAddress("--redis_listen", redis_listen,
                                    /*allow_port_zero=*/true));
  }
  if (!memcached_listen.empty()) {
    RETURN_IF_ERROR(ValidateAddress("--memcached_listen", memcached_listen,
                                    /*allow_port_zero=*/true));
  }
  if (memcached_flush_all && memcached_listen.empty()) {
    return absl::InvalidArgumentError(
        "--memcached_flush_all needs --memcached_listen");
  }
  if (!advertise.empty()) {
    RETURN_IF_ERROR(ValidateAddress("--advertise", advertise));
    if (IsWildcardAddress(advertise)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--advertise=", advertise,
          " is a wildcard address; give the address others reach this node "
          "at"));
    }
  } else if (IsWildcardAddress(listen)) {
    // Registered as is, a wildcard would be an address no peer can reach.
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen=", listen,
        " listens on every interface; also give --advertise=HOST:PORT, the "
        "address other nodes and clients reach this node at"));
  }
  if (const uint64_t memory = PhysicalMemoryBytes();
      memory > 0 && cache_bytes > memory) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--cache_size=", FormatByteSize(cache_bytes), " is more than this machine's memory (",
        FormatByteSize(memory), ")"));
  }
  if (rack.empty()) return absl::InvalidArgumentError("--rack is required");
  if (data_dir.empty()) return absl::InvalidArgumentError("--data_dir is required");
  if (partition_drop_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("partition drop grace must not be negative");
  }
  if (hint_limits.window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--hint_window must be positive");
  }
  if (heartbeat_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--heartbeat_interval must be positive");
  }
  return absl::OkStatus();
}

// Members are declared in dependency order: each one's pointers point only
// at members above it, so destruction (in reverse) is safe.
struct StorageNode::Impl {
  StorageNodeOptions options;
  TermFence fence;  // the highest leader term seen
  NodeDescriptor self;
  DaemonSecurity security;  // --tls_dir, --auth_token_file
  std::unique_ptr<ClusterIdentity> cluster;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<HybridClock> clock;
  std::unique_ptr<HintWriter> hint_writer;
  DirectoryHolder directory;
  DownNodes down_nodes;
  std::unique_ptr<MasterSet> masters;  // --master
  // Before `base`, whose registry it counts in, is destroyed: `base` is
  // last so that its servers stop before anything they call into goes.
  std::unique_ptr<RequestMetrics> request_metrics;
  std::unique_ptr<LoadTracker> load;
  std::unique_ptr<PeerSet> peers;
  std::unique_ptr<Coordinator> coordinator;
  std::unique_ptr<AntiEntropy> anti_entropy;
  std::unique_ptr<PartitionReceiver> receiver;
  std::unique_ptr<PartitionCleaner> cleaner;
  std::unique_ptr<ExpirySweeper> sweeper;
  std::unique_ptr<Heartbeater> heartbeater;
  // Where this node stands in the master's list of repaired partitions;
  // read and written by the heartbeater's hooks, on its thread only.
  RepairedCursor repaired_cursor;
  // Set once `heartbeater` exists. The server answers requests before that
  // (its bound port is part of what the heartbeater registers), and a
  // request from a newer epoch then asks for a refresh: lost, harmlessly,
  // since registering fetches the directory anyway.
  std::atomic<Heartbeater*> started_heartbeater{nullptr};
  std::unique_ptr<DirectoryWatcher> watcher;
  std::unique_ptr<HintReplayer> hint_replayer;
  HotKeyTracker hot_keys;
  std::unique_ptr<NodeKvService> kv_service;
  std::unique_ptr<ReplicaServiceImpl> replica_service;
  std::unique_ptr<NodeRoutingSource> routing;
  std::unique_ptr<FrontDoors> doors;
  ServerBase base{"storage node"};

  void RequestRefresh() {
    if (Heartbeater* h = started_heartbeater.load(std::memory_order_acquire)) {
      h->RequestRefresh();
    }
  }

  // A decommission that drained this node ends with it REMOVED: it holds
  // nothing and never will, so it says so and stops (unless told to stay).
  void ExitIfRemoved() {
    if (options.stay_after_removal ||
        !directory.Get()->IsRemoved(self.id())) {
      return;
    }
    if (!announced_removal.exchange(true)) {
      QKV_LOG(INFO) << "decommissioned: holds nothing, safe to stop; "
                       "stopping (--stay_after_removal keeps it running)";
      base.Finish();
    }
  }
  std::atomic<bool> announced_removal{false};

  NodeLoad CurrentLoad() {
    NodeLoad result;
    HotKeyTracker::Rates hot = hot_keys.Take();
    for (HotKey& key : hot.keys) *result.add_hot_keys() = std::move(key);
    for (const auto& [partition, stats] : engine->Stats()) {
      PartitionLoad* p = result.add_partitions();
      p->set_partition(partition);
      p->set_keys(stats.keys);
      p->set_bytes(stats.bytes);
      if (auto rates = hot.partitions.find(partition); rates != hot.partitions.end()) {
        p->set_reads_per_sec(rates->second.first);
        p->set_writes_per_sec(rates->second.second);
      }
      result.set_keys(result.keys() + stats.keys);
      result.set_bytes(result.bytes() + stats.bytes);
    }
    result.set_free_bytes(GetDiskSpace(options.data_dir).free_bytes);
    const LoadTracker::Rates rates = load->Sample();
    result.set_reads_per_sec(rates.reads_per_sec);
    result.set_writes_per_sec(rates.writes_per_sec);
    result.set_pending_hints(engine->hints().pending() + hint_writer->queued());
    const Engine::CacheStats caches = engine->Caches();
    CacheLoad* cache = result.mutable_cache();
    cache->set_hits(caches.block.hits + caches.row.hits);
    cache->set_misses(caches.block.misses + caches.row.misses);
    cache->set_evictions(caches.block.evictions + caches.row.evictions);
    cache->set_bytes(caches.block.bytes + caches.row.bytes);
    cache->set_capacity_bytes(caches.block.capacity + caches.row.capacity);
    return result;
  }

  // Idempotent; every caller returns once the node has stopped.
  void Stop() {
    // The doors' requests go through the node: they end first.
    if (doors != nullptr) doors->Stop();
    base.Stop(
        [this] {
          // Background work below may wait on a peer that is gone.
          peers->GiveUpOnUnreachable();
          watcher->Stop();
          heartbeater->Stop();
          hint_replayer->Stop();
          anti_entropy->Stop();
          receiver->Stop();
          cleaner->Stop();
          sweeper->Stop();
          kv_service->CloseStreams();
          replica_service->CloseStreams();
        },
        [this] { coordinator->WaitIdle(); });
  }
};

absl::StatusOr<std::unique_ptr<StorageNode>> StorageNode::Start(
    const StorageNodeOptions& options) {
  RETURN_IF_ERROR(options.Validate());
  ASSIGN_OR_RETURN(DataDirIdentity identity,
                   OpenDataDir(options.data_dir, "storage_node"));
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->cluster = std::make_unique<ClusterIdentity>(options.data_dir, identity,
                                                    &impl->fence);
  ASSIGN_OR_RETURN(impl->security, DaemonSecurity::Load(
                                       options.tls_dir, options.auth_token_file));
  const ChannelSecurity outgoing = impl->security.outgoing();
  ASSIGN_OR_RETURN(impl->masters,
                   MasterSet::Create("--master", options.master, outgoing));
  EngineOptions engine_options;
  engine_options.tombstone_grace = options.tombstone_grace;
  engine_options.sync_writes = options.sync_writes;
  engine_options.hint_limits = options.hint_limits;
  engine_options.cache_bytes = options.cache_bytes;
  ASSIGN_OR_RETURN(
      impl->engine,
      Engine::Open((std::filesystem::path(options.data_dir) / "db").string(),
                   engine_options));
  impl->clock = std::make_unique<HybridClock>(identity.id);
  impl->hint_writer = std::make_unique<HintWriter>(&impl->engine->hints());
  impl->peers = std::make_unique<PeerSet>(options.peer_proxy_factory
                                              ? options.peer_proxy_factory
                                              : GrpcPeerProxyFactory(outgoing));
  impl->coordinator = std::make_unique<Coordinator>(
      identity.id, impl->engine.get(), impl->clock.get(), impl->peers.get(),
      &impl->down_nodes, impl->hint_writer.get(), &impl->directory);

  Impl* raw = impl.get();
  auto request_refresh = [raw] { raw->RequestRefresh(); };
  impl->request_metrics =
      std::make_unique<RequestMetrics>(impl->base.metrics().registry());
  impl->load = std::make_unique<LoadTracker>(impl->request_metrics.get());
  impl->kv_service = std::make_unique<NodeKvService>(
      impl->coordinator.get(), &impl->directory, impl->request_metrics.get(),
      request_refresh, impl->security.tokens.get(), &impl->hot_keys);
  impl->anti_entropy = std::make_unique<AntiEntropy>(
      identity.id, impl->engine.get(), &impl->directory, impl->peers.get(),
      [raw] {
        if (Heartbeater* h =
                raw->started_heartbeater.load(std::memory_order_acquire)) {
          h->Wake();
        }
      });
  impl->replica_service = std::make_unique<ReplicaServiceImpl>(
      identity.id, impl->engine.get(), impl->clock.get(), &impl->directory,
      request_refresh,
      [raw](const PeerRequest& request, std::function<void(PeerReply)> reply) {
        raw->anti_entropy->Serve(request, std::move(reply));
      },
      impl->security.tokens.get());

  impl->receiver = std::make_unique<PartitionReceiver>(
      identity.id, impl->engine.get(), impl->clock.get(), &impl->directory,
      impl->peers.get(), [raw] { raw->heartbeater->Wake(); });
  impl->sweeper = std::make_unique<ExpirySweeper>(impl->engine.get());
  impl->cleaner = std::make_unique<PartitionCleaner>(
      identity.id, impl->engine.get(), &impl->directory,
      options.partition_drop_grace);
  impl->hint_replayer = std::make_unique<HintReplayer>(
      &impl->engine->hints(), &impl->directory, impl->peers.get(),
      options.hint_replay_interval);
  AddNodeMetrics(
      NodeMetricSources{impl->engine.get(), impl->hint_writer.get(),
                        impl->hint_replayer.get(), impl->coordinator.get(),
                        impl->anti_entropy.get(), impl->receiver.get(),
                        &impl->directory, &impl->fence},
      &impl->base.metrics());
  impl->base.SetHealthCheck([raw] {
    Heartbeater* heartbeater =
        raw->started_heartbeater.load(std::memory_order_acquire);
    return heartbeater != nullptr && heartbeater->registered()
               ? absl::OkStatus()
               : absl::UnavailableError("not registered with the master yet");
  });
  if (!options.redis_listen.empty() || !options.memcached_listen.empty()) {
    impl->routing = std::make_unique<NodeRoutingSource>(
        &impl->directory, &impl->down_nodes, request_refresh);
    FrontDoorOptions doors;
    doors.redis_listen = options.redis_listen;
    doors.memcached_listen = options.memcached_listen;
    doors.memcached_flush_all = options.memcached_flush_all;
    doors.tls = impl->security.tls;
    doors.tokens = impl->security.tokens.get();
    doors.outgoing = outgoing;
    doors.local_keys = [raw] {
      uint64_t keys = 0;
      for (const auto& [partition, stats] : raw->engine->Stats()) {
        keys += stats.keys;
      }
      return keys;
    };
    absl::StatusOr<std::unique_ptr<FrontDoors>> started = FrontDoors::Start(
        std::move(doors), impl->routing.get(), impl->kv_service.get(),
        &impl->base.metrics());
    if (!started.ok()) return started.status();
    impl->doors = *std::move(started);
  }
  impl->base.SetSecurity(&impl->security);
  RETURN_IF_ERROR(impl->base.Serve(
      options.listen, {impl->kv_service.get(), impl->replica_service.get()},
      options.http_listen));
  const std::string& bound = impl->base.address();
  if (options.serving_hook) options.serving_hook(bound);
  impl->self.set_id(identity.id);
  impl->self.set_rack(options.rack);
  impl->self.set_name(
      !options.name.empty()
          ? options.name
          : std::filesystem::path(options.data_dir).lexically_normal()
                .filename()
                .string());
  impl->self.set_address(options.advertise.empty() ? bound : options.advertise);
  if (impl->doors != nullptr) {
    // Announced in the directory: cluster-aware Redis clients dial them.
    impl->self.set_redis_address(DoorAddress(
        options.redis_listen, impl->doors->redis_port(), impl->self.address()));
    impl->self.set_memcached_address(
        DoorAddress(options.memcached_listen, impl->doors->memcached_port(),
                    impl->self.address()));
  }
  impl->heartbeater = std::make_unique<Heartbeater>(
      impl->self, GetDiskSpace(options.data_dir).capacity_bytes,
      impl->masters.get(), options.heartbeat_interval, &impl->directory,
      impl->cluster.get(), &impl->down_nodes, [raw] { return raw->CurrentLoad(); },
      [raw](absl::Status status) {
        // Wait() returns it; the owner shuts the node down (Stop() joins
        // the heartbeater's thread, which runs this).
        raw->base.Fail(std::move(status));
      },
      Heartbeater::Hooks{
          [raw](HeartbeatRequest* request) {
            for (StreamProgress& p : raw->receiver->Progress()) {
              *request->add_streams() = std::move(p);
            }
            *request->mutable_anti_entropy() =
                raw->anti_entropy->LastReport();
            *request->mutable_repaired_known() = raw->repaired_cursor;
            for (uint32_t p : raw->engine->hints().TakeDiverged()) {
              request->add_diverged_partitions(p);
            }
          },
          [raw](const HeartbeatResponse& response) {
            raw->receiver->SetTasks(std::vector<StreamTask>(
                response.streams().begin(), response.streams().end()));
            if (response.has_anti_entropy()) {
              raw->anti_entropy->SetTask(response.anti_entropy());
            }
            for (const PartitionRepaired& r : response.repaired()) {
              raw->engine->SetRepairedBefore(
                  r.partition(), absl::FromUnixMillis(r.repaired_before_ms()));
            }
            raw->repaired_cursor = response.repaired_cursor();
            raw->ExitIfRemoved();
          },
          [raw](const HeartbeatRequest& request) {
            for (uint32_t p : request.diverged_partitions()) {
              raw->engine->hints().MarkDiverged(p);
            }
          }});
  impl->watcher = std::make_unique<DirectoryWatcher>(
      impl->masters.get(), &impl->directory, impl->cluster.get(),
      [raw] {
        raw->heartbeater->Wake();
        raw->ExitIfRemoved();
      });
  impl->started_heartbeater.store(impl->heartbeater.get(),
                                  std::memory_order_release);
  impl->heartbeater->Start();
  impl->watcher->Start();
  impl->hint_replayer->Start();
  impl->anti_entropy->Start();
  impl->cleaner->Start();
  impl->sweeper->Start();
  QKV_LOG(INFO) << "storage node " << identity.id << " serving on "
                << impl->self.address() << " (rack " << options.rack
                << ", data " << options.data_dir << ")";
  return std::unique_ptr<StorageNode>(new StorageNode(std::move(impl)));
}

StorageNode::StorageNode(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

StorageNode::~StorageNode() { Shutdown(); }

int StorageNode::redis_port() const {
  return impl_->doors != nullptr ? impl_->doors->redis_port() : 0;
}

int StorageNode::memcached_port() const {
  return impl_->doors != nullptr ? impl_->doors->memcached_port() : 0;
}

absl::Status StorageNode::Wait() { return impl_->base.Wait(); }

void StorageNode::Shutdown() { impl_->Stop(); }

const std::string& StorageNode::id() const { return impl_->self.id(); }
const std::string& StorageNode::address() const {
  return impl_->self.address();
}
int StorageNode::port() const { return impl_->base.port(); }
int StorageNode::http_port() const { return impl_->base.http_port(); }
bool StorageNode::registered() const { return impl_->heartbeater->registered(); }
DirectoryPtr StorageNode::directory() const { return impl_->directory.Get(); }

bool StorageNode::KnowsDown(const std::string& node_id) const {
  return impl_->down_nodes.IsDown(node_id);
}
Engine* StorageNode::engine() { return impl_->engine.get(); }

}  // namespace quorumkv
