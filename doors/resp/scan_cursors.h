// SCAN's cursor for Redis clients: a decimal 64-bit number (clients parse
// it with int()), partition << 40 | token, where the token names where the
// walk of that partition stopped (a key, kept here). 0 starts a walk and
// ends one, as in Redis. Resume points are kept for the last kMaxKept
// pages; a cursor whose point was forgotten (or made by another node)
// starts its partition again: keys may then come twice, which SCAN allows,
// but none is missed.
//
// Thread-safe.
#ifndef QUORUMKV_DOORS_RESP_SCAN_CURSORS_H_
#define QUORUMKV_DOORS_RESP_SCAN_CURSORS_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace quorumkv {

class ScanCursors {
 public:
  static constexpr size_t kMaxKept = 65536;

  struct Position {
    uint32_t partition = 0;
    std::string start_after;  // empty: the partition's start
  };

  // The cursor that resumes `partition` after `start_after` (empty: at
  // its start).
  uint64_t Make(uint32_t partition, std::string start_after);
  // Where `cursor` resumes; nullopt when it is not a cursor at all (the
  // partition part is past `partitions`).
  std::optional<Position> Resolve(uint64_t cursor, uint32_t partitions);

 private:
  static constexpr int kTokenBits = 40;
  absl::Mutex mu_;
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, std::string> kept_ ABSL_GUARDED_BY(mu_);
  std::deque<uint64_t> order_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_RESP_SCAN_CURSORS_H_
