// A linearizability checker for the history of one register: did a set of
// concurrent reads, writes, compare-and-sets and increments of one key,
// each known only by when it was invoked, when it returned and what it
// answered, behave as if each took effect atomically at one instant within
// its interval? Tests record such histories against a cluster and check
// them here, one key at a time (linearizability is compositional, so keys
// are checked apart).
//
// The search is Wing & Gong's, with Lowe's memoization of the states
// (operations linearized, register value) already explored. The problem is
// NP-complete, so the search is bounded; but histories of a few clients on
// one key stay near linear, since an operation may come next only while no
// pending one returned before it was invoked, and counters get a stronger
// pruning (see CheckLinearizable).
#ifndef QUORUMKV_TESTS_LINEARIZABILITY_H_
#define QUORUMKV_TESTS_LINEARIZABILITY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quorumkv {

// One operation on the register, as its client saw it. The register holds
// an optional byte string; nullopt means the key has no value.
struct RegisterOp {
  enum class Kind {
    kRead,         // `value`: what was read.
    kWrite,        // Unconditional put of `value` (nullopt: a delete).
    kCasIfAbsent,  // Stores `value` if the key has no value.
    kCasIfValue,   // Stores `value` if the key's value is `expected`.
    kIncrement,    // Adds `delta` to the decimal int64 value (absent: 0).
  };

  Kind kind = Kind::kRead;
  // On one monotonic clock shared by all clients. An operation precedes
  // another iff it returned strictly before the other was invoked: equal
  // times count as concurrent, since a clock's resolution cannot order
  // them.
  int64_t invoked = 0;
  int64_t returned = 0;  // Ignored when `unknown` (callers may set INT64_MAX).
  // The outcome is unknown (a timeout): the operation took effect at some
  // instant after `invoked`, or never, and what it answered is not known,
  // so the outcome fields below are ignored. A read of unknown outcome
  // tells nothing and is ignored altogether.
  bool unknown = false;
  int client = 0;  // Names the operation in explanations only.

  std::optional<std::string> value;
  std::string expected;  // kCasIfValue.
  // Compare-and-set of known outcome: whether the condition held.
  bool applied = false;
  // A compare-and-set that was not applied answers the value it found;
  // with `check_observed` that answer (nullopt: absent) must be the
  // register's value at the instant it took effect. Off by default so that
  // a caller that did not record it is not flagged.
  bool check_observed = false;
  std::optional<std::string> observed;
  int64_t delta = 0;   // kIncrement.
  int64_t result = 0;  // kIncrement of known outcome: the value after it.
};

struct LinearizabilityResult {
  bool linearizable = false;
  // The search stopped after `max_states` states without an answer:
  // `linearizable` is false, yet the history may well be linearizable.
  bool gave_up = false;
  // Empty when linearizable. Otherwise names the furthest the search got
  // (operations are named by their index in the history) and the
  // operations that could not come next, or says the budget ran out.
  std::string explanation;
  // States (operations linearized, register value) visited: the work done.
  size_t states_explored = 0;
  // When linearizable, a witness: indices into the history in the order
  // the operations took effect. Operations of unknown outcome appear only
  // where the witness needed them to take effect.
  std::vector<size_t> order;
};

// Checks `history` (in any order) against a register that holds `initial`
// before any of it. Increments parse the value as std::from_chars does (an
// optional '-' and decimal digits, nothing else); one of known outcome on
// any other value, or that would overflow, cannot take effect, and one of
// unknown outcome then has no effect.
//
// States are remembered as the exact register value and a 128-bit
// fingerprint of the set of operations linearized, about 32 bytes each,
// so at most `max_states` of them; two sets share a fingerprint with
// probability 2^-128, which would prune a branch wrongly.
//
// When every operation is a read or an increment by delta >= 0 (a counter)
// and `initial` is absent or a number, the value never decreases, so a
// state that left a pending read or increment of known outcome behind an
// already larger value is abandoned at once: this keeps a counter history
// with timeouts near linear even when it is not linearizable.
//
// Pure: it touches no shared state, so concurrent calls are safe.
LinearizabilityResult CheckLinearizable(
    const std::vector<RegisterOp>& history,
    std::optional<std::string> initial = std::nullopt,
    size_t max_states = 10'000'000);

}  // namespace quorumkv

#endif  // QUORUMKV_TESTS_LINEARIZABILITY_H_
