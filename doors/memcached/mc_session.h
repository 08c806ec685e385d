// A memcached client's connection to the memcached door: reads its
// requests (doors/memcached/mc_parser.h) and submits each to the
// connection, with the keys it names, so that replies keep their order
// (doors/door_connection.h); the commands themselves are
// doors/memcached/mc_commands.h. Requests that need no data (version,
// stats, verbosity, mn, refusals) are answered in place.
//
// Authentication: when the context has tokens, a connection is
// unauthenticated until it sends memcached 1.6's ASCII authentication, a
// `set` (any key, flags and exptime) whose data is "<username> <token>":
// any username; a token that TokenSet::Check grants Role::kData answers
// "STORED" and authenticates the connection, another one "CLIENT_ERROR
// authentication failure", data without two words "CLIENT_ERROR bad
// authentication token format". Every other request before that is
// answered "CLIENT_ERROR unauthenticated" (its data block consumed).
// Without tokens every request is served.
//
// Loop thread only (DoorSession's contract).
#ifndef QUORUMKV_DOORS_MEMCACHED_MC_SESSION_H_
#define QUORUMKV_DOORS_MEMCACHED_MC_SESSION_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth_tokens.h"
#include "doors/door_connection.h"
#include "doors/door_metrics.h"
#include "doors/kv_gateway.h"
#include "doors/memcached/mc_commands.h"
#include "doors/memcached/mc_parser.h"

namespace quorumkv {

// What `version` answers by default: the memcached release whose protocol
// the door speaks, then the project's version ("1.6.18-quorumkv-0.3.0";
// one word, as clients that split `stats` lines at spaces expect).
std::string DefaultMcVersion();

// What every connection of one memcached door shares; must outlive them.
// Set the fields before the first connection; the counters are the only
// part that changes afterwards (thread-safe).
struct McContext {
  KvGateway* gateway = nullptr;
  DoorMetrics* metrics = nullptr;    // may be null
  const TokenSet* tokens = nullptr;  // null: no authentication
  // Whether flush_all deletes every key of the cluster; refused otherwise
  // (kv_storage_node --memcached_flush_all).
  bool flush_all_enabled = false;
  std::string version = DefaultMcVersion();
  absl::Time started = absl::Now();  // `stats` uptime
  McCounters counters;
};

class McSession final : public DoorSession {
 public:
  // Counts the connection in `stats` until the session is destroyed (the
  // door's connection gauge is the server's to keep).
  explicit McSession(McContext* context);
  ~McSession() override;
  McSession(const McSession&) = delete;
  McSession& operator=(const McSession&) = delete;

  // Parses and submits whole requests; a request's data block is parsed
  // only once all of it has arrived.
  void OnInput(evbuffer* input, DoorConnection& connection) override;

 private:
  void OnError(const McParse& parsed, DoorConnection& connection);
  void OnRequest(McRequest request, DoorConnection& connection);
  // memcached's ASCII authentication (see above).
  void Authenticate(const McRequest& request, DoorConnection& connection);
  // Ends the session: nothing more is read.
  void Stop(evbuffer* input, DoorConnection& connection);
  void Count(absl::string_view command, bool ok);

  McContext* const context_;
  bool authenticated_ = false;
  bool stopped_ = false;       // quit, or an error that closes
  // Where parsing stands in the input (see OnInput).
  size_t need_ = 0;            // input length to wait for; 0: a line end
  bool line_end_will_do_ = false;
  size_t scanned_ = 0;         // front bytes known to hold no "\n"
  uint64_t swallow_ = 0;       // bytes still to discard
};

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_MEMCACHED_MC_SESSION_H_
