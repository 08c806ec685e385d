// A Redis client's connection to the RESP door: reads its commands
// (doors/resp/resp_parser.h), checks them against the command table
// (doors/resp/redis_command_table.h) and the connection's state (protocol
// version, AUTH, name), and submits each to the connection so that replies
// keep their order. Loop thread only.
#ifndef QUORUMKV_DOORS_RESP_REDIS_SESSION_H_
#define QUORUMKV_DOORS_RESP_REDIS_SESSION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/auth_tokens.h"
#include "doors/door_connection.h"
#include "doors/door_metrics.h"
#include "doors/kv_gateway.h"
#include "doors/resp/scan_cursors.h"

namespace quorumkv {

// What every connection of one RESP door shares; must outlive them.
struct RedisContext {
  KvGateway* gateway = nullptr;
  DoorMetrics* metrics = nullptr;       // may be null
  const TokenSet* tokens = nullptr;     // null: no AUTH needed
  // Live keys this node holds (DBSIZE, INFO keyspace), as Redis Cluster's
  // DBSIZE counts a node's own keys.
  std::function<uint64_t()> local_keys;
  ScanCursors* cursors = nullptr;
  int port = 0;                         // the door's, for INFO
  absl::Time started = absl::Now();
};

class RedisSession final : public DoorSession {
 public:
  explicit RedisSession(RedisContext* context) : context_(context) {}

  void OnInput(evbuffer* input, DoorConnection& connection) override;

  // The connection's state, as HELLO, AUTH and CLIENT change it.
  int protocol() const { return protocol_; }
  void set_protocol(int protocol) { protocol_ = protocol; }
  bool authenticated() const {
    return context_->tokens == nullptr || authenticated_;
  }
  void set_authenticated() { authenticated_ = true; }
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

 private:
  void Dispatch(std::vector<std::string> args, DoorConnection& connection);

  RedisContext* const context_;
  int protocol_ = 2;
  bool authenticated_ = false;
  std::string name_;
  size_t need_ = 0;  // input bytes to wait for before parsing again
};

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_RESP_REDIS_SESSION_H_
