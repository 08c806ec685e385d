#include "storage_node/term_fence.h"

#include "absl/time/clock.h"
#include "common/logging.h"

namespace quorumkv {

bool TermFence::Admit(uint64_t term, absl::string_view what) {
  absl::MutexLock lock(&mu_);
  if (term >= highest_) {
    highest_ = term;
    return true;
  }
  ++ignored_;
  const absl::Time now = absl::Now();
  if (now - logged_ >= absl::Seconds(5)) {
    logged_ = now;
    QKV_LOG(WARNING) << "ignored a " << what << " from a leader of term "
                     << term << ", superseded by term " << highest_ << " ("
                     << ignored_ << " ignored so far)";
  }
  return false;
}

}  // namespace quorumkv
