#include "common/write_outcome.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/rpc_status.h"

namespace quorumkv {

bool MayHaveBeenApplied(const absl::Status& status) {
  if (status.ok()) return true;
  if (std::optional<QuorumNotReached> q = GetQuorumNotReached(status)) {
    return q->attempted();
  }
  return WasSent(status);
}

absl::Status WriteAttempts::Outcome(absl::Status status, uint32_t w) const {
  if (status.ok()) return status;
  const bool maybe = maybe_applied_ || MayHaveBeenApplied(status);
  std::optional<QuorumNotReached> quorum = GetQuorumNotReached(status);
  if (quorum) {
    if (quorum->attempted() || !maybe) return status;
    // Refused before writing now, but an earlier attempt was sent.
    quorum->set_attempted(true);
    return QuorumError(
        status.code(),
        absl::StrCat(status.message(),
                     "; an earlier attempt was sent and may have been applied"),
        *quorum);
  }
  if (GetErrorDetail(status)) return status;  // another typed detail
  // A refusal that names its cause (bad input, no permission) is clear as
  // it is when nothing was sent.
  if (!maybe && !absl::IsUnavailable(status) &&
      !absl::IsDeadlineExceeded(status)) {
    return status;
  }
  QuorumNotReached detail;
  detail.set_required(w);
  detail.set_attempted(maybe);
  detail.set_unanswered(true);
  return QuorumError(status.code(), status.message(), detail);
}

}  // namespace quorumkv
