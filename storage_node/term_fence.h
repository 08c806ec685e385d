// The highest leader term this storage node has seen (docs/architecture.md,
// "Masters"). A leader paused past its lease (SIGSTOP, a long GC) and then
// resumed may answer a heartbeat or hand out a directory before it notices
// it no longer leads; what comes with a term lower than one already seen
// is ignored: its directories, stream tasks and anti-entropy tasks. The
// embedded master's term is 0, and stays the highest. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_TERM_FENCE_H_
#define QUORUMKV_STORAGE_NODE_TERM_FENCE_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quorumkv {

class TermFence {
 public:
  // Whether `what`, sent by a leader of `term`, may be acted on; raises
  // the highest term seen. Logs what it ignores (at most every 5 s).
  bool Admit(uint64_t term, absl::string_view what);

  uint64_t highest() const {
    absl::MutexLock lock(&mu_);
    return highest_;
  }
  // Answers and directories ignored since start.
  uint64_t ignored() const {
    absl::MutexLock lock(&mu_);
    return ignored_;
  }

 private:
  mutable absl::Mutex mu_;
  uint64_t highest_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t ignored_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time logged_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_TERM_FENCE_H_
