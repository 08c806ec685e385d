// What the caller of a write learns when it fails: whether it may have
// happened (docs/failures.md). A write that failed was either never sent
// (nothing stored anywhere: "not written") or sent, and then it may be
// stored on any replica whatever the error says ("may have been written").
//
// The SDK and the master's relay both route a write over attempts (another
// replica, a refreshed directory); each failed attempt is recorded here,
// and the outcome given to the caller carries a QuorumNotReached detail
// that says which it was, across every hop. Not thread-safe: one per
// request, used by whoever holds the request.
#ifndef QUORUMKV_COMMON_WRITE_OUTCOME_H_
#define QUORUMKV_COMMON_WRITE_OUTCOME_H_

#include <cstdint>

#include "absl/status/status.h"

namespace quorumkv {

// Whether the write that failed with `status` may still have been applied:
// a coordinator said it was attempted, or the request had left for its
// server when its stream broke or its deadline passed (common/rpc_status.h
// MarkSent).
bool MayHaveBeenApplied(const absl::Status& status);

class WriteAttempts {
 public:
  // One attempt failed with `status` (and another may follow).
  void Failed(const absl::Status& status) {
    maybe_applied_ |= MayHaveBeenApplied(status);
  }
  bool maybe_applied() const { return maybe_applied_; }

  // The status to give the caller for a write whose last attempt ended
  // with `status`, `w` its W (0: the default). OK stays OK. A failure gets
  // a QuorumNotReached detail unless it has one, or another typed detail:
  // `attempted` when this or an earlier attempt may have been applied,
  // `unanswered` since no coordinator counted.
  absl::Status Outcome(absl::Status status, uint32_t w) const;

 private:
  bool maybe_applied_ = false;
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_WRITE_OUTCOME_H_
