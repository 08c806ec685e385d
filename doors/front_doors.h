// A storage node's front doors: the RESP door (--redis_listen) and the
// memcached door (--memcached_listen), each a DoorServer with its
// protocol's sessions, both over one KvGateway to the cluster. The node
// makes one at start and stops it first at shutdown.
#ifndef QUORUMKV_DOORS_FRONT_DOORS_H_
#define QUORUMKV_DOORS_FRONT_DOORS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth_tokens.h"
#include "common/grpc_util.h"
#include "common/local_kv_node.h"
#include "common/metrics.h"
#include "common/replica_router.h"
#include "common/tls.h"

namespace quorumkv {

struct FrontDoorOptions {
  std::string redis_listen;      // empty: no RESP door
  std::string memcached_listen;  // empty: no memcached door
  bool memcached_flush_all = false;
  std::shared_ptr<const TlsConfig> tls;  // null: plaintext
  const TokenSet* tokens = nullptr;      // null: no AUTH
  ChannelSecurity outgoing;              // calls to other nodes
  // Live keys the node holds (DBSIZE, INFO).
  std::function<uint64_t()> local_keys;
};

// The address a door is announced at: `listen` with its bound `port`, the
// host taken from `node_address` when `listen` is a wildcard (0.0.0.0,
// [::]); empty when the door is off.
std::string DoorAddress(const std::string& listen, int port,
                        const std::string& node_address);

class FrontDoors {
 public:
  // Binds the doors asked for. `source`, `local` and `metrics` must
  // outlive the doors.
  static absl::StatusOr<std::unique_ptr<FrontDoors>> Start(
      FrontDoorOptions options, RoutingSource* source, LocalKvNode* local,
      Metrics* metrics);
  ~FrontDoors();  // Stop()s.

  // Stops both doors (connections closed) and waits for the requests they
  // started. Idempotent.
  void Stop();
  // Bound ports; 0 for a door not served.
  int redis_port() const;
  int memcached_port() const;

 private:
  struct Impl;
  explicit FrontDoors(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_FRONT_DOORS_H_
