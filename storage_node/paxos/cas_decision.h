// What a conditional write does with the key's current row, once a Paxos
// round has read it at a majority: a pure function, tested over every
// condition and action (tests/paxos_test.cc).
#ifndef QUORUMKV_STORAGE_NODE_PAXOS_CAS_DECISION_H_
#define QUORUMKV_STORAGE_NODE_PAXOS_CAS_DECISION_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "proto/kv.pb.h"
#include "proto/replica.pb.h"

namespace quorumkv {

struct CasDecision {
  // The condition held: `row` is what to propose (its version is the
  // ballot's, set by the proposer).
  bool applied = false;
  VersionedValue row;
};

// `current` is the key's row merged from a majority (null: none), judged
// live or not at `now_ms`. INVALID_ARGUMENT, nothing proposed, for an
// increment of a value that is not a decimal 64-bit integer or that would
// overflow.
absl::StatusOr<CasDecision> DecideCas(const CasRequest& request,
                                      const VersionedValue* current,
                                      int64_t now_ms);

// `text` as a decimal 64-bit integer: an optional '-' and 1..19 digits,
// nothing else, within range.
bool ParseCounter(absl::string_view text, int64_t* value);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_PAXOS_CAS_DECISION_H_
