#include "doors/front_doors.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "common/status_macros.h"
#include "common/version.h"
#include "doors/door_metrics.h"
#include "doors/door_server.h"
#include "doors/kv_gateway.h"
#include "doors/memcached/mc_session.h"
#include "doors/resp/redis_session.h"
#include "doors/resp/scan_cursors.h"

namespace quorumkv {

struct FrontDoors::Impl {
  std::unique_ptr<KvGateway> gateway;
  std::unique_ptr<DoorMetrics> metrics;
  ScanCursors cursors;
  RedisContext redis;
  McContext memcached;
  std::unique_ptr<DoorServer> redis_server;
  std::unique_ptr<DoorServer> memcached_server;
  bool stopped = false;
};

absl::StatusOr<std::unique_ptr<FrontDoors>> FrontDoors::Start(
    FrontDoorOptions options, RoutingSource* source, LocalKvNode* local,
    Metrics* metrics) {
  auto impl = std::make_unique<Impl>();
  impl->gateway =
      std::make_unique<KvGateway>(source, local, std::move(options.outgoing));
  impl->metrics = std::make_unique<DoorMetrics>(metrics->registry());
  Impl* raw = impl.get();
  if (!options.redis_listen.empty()) {
    raw->redis.gateway = raw->gateway.get();
    raw->redis.metrics = raw->metrics.get();
    raw->redis.tokens = options.tokens;
    raw->redis.local_keys = options.local_keys;
    raw->redis.cursors = &raw->cursors;
    DoorServerOptions door;
    door.name = "redis";
    door.listen = options.redis_listen;
    door.tls = options.tls;
    door.metrics = raw->metrics.get();
    door.new_session = [raw] {
      return std::make_unique<RedisSession>(&raw->redis);
    };
    ASSIGN_OR_RETURN(raw->redis_server, DoorServer::Start(std::move(door)));
    raw->redis.port = raw->redis_server->port();
  }
  if (!options.memcached_listen.empty()) {
    raw->memcached.gateway = raw->gateway.get();
    raw->memcached.metrics = raw->metrics.get();
    raw->memcached.tokens = options.tokens;
    raw->memcached.flush_all_enabled = options.memcached_flush_all;
    raw->memcached.version = absl::StrCat("1.6.18-quorumkv-", ProjectVersion());
    DoorServerOptions door;
    door.name = "memcached";
    door.listen = options.memcached_listen;
    door.tls = options.tls;
    door.metrics = raw->metrics.get();
    door.new_session = [raw] {
      return std::make_unique<McSession>(&raw->memcached);
    };
    ASSIGN_OR_RETURN(raw->memcached_server, DoorServer::Start(std::move(door)));
  }
  return std::unique_ptr<FrontDoors>(new FrontDoors(std::move(impl)));
}

std::string DoorAddress(const std::string& listen, int port,
                        const std::string& node_address) {
  if (listen.empty()) return "";
  const std::string& host_from = IsWildcardAddress(listen) ? node_address : listen;
  return absl::StrCat(host_from.substr(0, host_from.rfind(':')), ":", port);
}

FrontDoors::FrontDoors(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FrontDoors::~FrontDoors() { Stop(); }

void FrontDoors::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (impl_->redis_server) impl_->redis_server->Stop();
  if (impl_->memcached_server) impl_->memcached_server->Stop();
  impl_->gateway->WaitIdle();
}

int FrontDoors::redis_port() const {
  return impl_->redis_server ? impl_->redis_server->port() : 0;
}

int FrontDoors::memcached_port() const {
  return impl_->memcached_server ? impl_->memcached_server->port() : 0;
}

}  // namespace quorumkv
