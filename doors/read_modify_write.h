// Read-modify-write commands of the doors (Redis SET NX/XX/GET, APPEND,
// GETSET, GETDEL; memcached add, replace, append, prepend, cas...): the
// key's current row is read, the command decides what to write from it,
// and that is written by one conditional write (Paxos, CasRequest.any_key)
// on that very row (its version, or its absence). When another write came
// in between, the conditional write fails and hands back the newer row;
// the command decides again from it. So no such command ever loses a
// concurrent one's effect, as a read-then-write would.
//
// Thread-safe; `done` runs once, on any thread.
#ifndef QUORUMKV_DOORS_READ_MODIFY_WRITE_H_
#define QUORUMKV_DOORS_READ_MODIFY_WRITE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "doors/kv_gateway.h"
#include "proto/kv.pb.h"

namespace quorumkv {

// A key's row as a read-modify-write sees it.
struct CurrentRow {
  bool found = false;
  std::string value;          // stored bytes (client flags envelope kept)
  Version version;            // when found
  int64_t expires_at_ms = 0;  // 0: no expiry
};

// What a command makes of the current row.
struct RowChange {
  enum Kind { kLeave, kStore, kDelete };
  Kind kind = kLeave;
  std::string value;          // kStore
  int64_t expires_at_ms = 0;  // kStore: 0 none, else Unix ms (kept TTLs)
};

struct RmwResult {
  CurrentRow before;     // the row the change was decided on
  bool applied = false;  // false: the change was kLeave
  Version version;       // applied kStore/kDelete: the written version
};

// Conflicts retried before giving up with ABORTED.
inline constexpr int kMaxRmwAttempts = 16;

void ReadModifyWrite(KvGateway* gateway, std::string key,
                     std::function<RowChange(const CurrentRow&)> decide,
                     std::function<void(absl::StatusOr<RmwResult>)> done);

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_READ_MODIFY_WRITE_H_
