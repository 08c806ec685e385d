// The memcached commands' shared internals, not an API: what the classic
// commands (mc_commands.cc) and the meta commands (mc_meta_commands.cc)
// both run on. Callers outside doors/memcached use mc_commands.h.
#ifndef QUORUMKV_DOORS_MEMCACHED_MC_INTERNAL_H_
#define QUORUMKV_DOORS_MEMCACHED_MC_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "doors/kv_gateway.h"
#include "doors/memcached/mc_commands.h"
#include "doors/read_modify_write.h"
#include "proto/kv.pb.h"

namespace quorumkv {
namespace mc_internal {

inline int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

inline constexpr absl::string_view kNonNumeric =
    "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n";

// ---------------------------------------------------------------- reads

// A key's row as a read sees it.
struct Item {
  bool found = false;
  std::string stored;  // the client flags envelope kept
  Version version;
  int64_t expires_at_ms = 0;
};
using ItemDone = std::function<void(absl::StatusOr<Item>)>;

// A missing key is an Item that is not found, not an error.
void ReadKey(KvGateway* gateway, const std::string& key, ItemDone done);

// Reads `key` once its expiry is `expiry` (gat, gats, mg T); why with an
// ExpireRequest rather than a rewrite is told at its definition.
void TouchAndGet(KvGateway* gateway, const std::string& key, McExpiry expiry,
                 ItemDone done);

// --------------------------------------------------------------- stores

enum class StoreMode { kSet, kAdd, kReplace, kAppend, kPrepend, kCas };
enum class Stored { kStored, kNotStored, kExists, kNotFound };

struct StoreOp {
  StoreMode mode = StoreMode::kSet;
  std::string key;
  uint32_t flags = 0;
  std::string data;
  McExpiry expiry;
  bool has_cas = false;  // cas: always; append, prepend: ms's C flag
  uint64_t cas = 0;
};

struct StoreOutcome {
  Stored result = Stored::kStored;
  bool has_version = false;  // a row was written
  Version version;
};

// set is a plain put, the other modes a read-modify-write; `done` gets
// what memcached answers.
void RunStore(KvGateway* gateway, std::shared_ptr<const StoreOp> op,
              std::function<void(absl::StatusOr<StoreOutcome>)> done);

// ------------------------------------------------------------- counters

struct CounterOp {
  bool incr = true;
  uint64_t delta = 1;
  bool has_cas = false;  // ma C (0: none)
  uint64_t cas = 0;
  bool vivify = false;   // ma N: create on a miss with `initial`
  McExpiry vivify_expiry;
  uint64_t initial = 0;
  bool has_ttl = false;  // ma T: the new expiry on success
  McExpiry ttl;
};

struct Counted {
  enum Kind { kNotFound, kNonNumeric, kExists, kUpdated, kCreated };
  Kind kind = kNotFound;
  uint64_t value = 0;          // kUpdated, kCreated: the new number
  int64_t expires_at_ms = 0;   // kUpdated, kCreated: the row's expiry after
};

// incr, decr, ma as a read-modify-write; `done` gets its result and, when
// that is ok, what memcached answers on the row it was decided on.
void RunCounter(KvGateway* gateway, const std::string& key,
                std::shared_ptr<const CounterOp> op,
                std::function<void(absl::StatusOr<RmwResult>, Counted)> done);

}  // namespace mc_internal
}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_MEMCACHED_MC_INTERNAL_H_
