// Deadlines of calls made on behalf of another call.
#ifndef QUORUMKV_COMMON_DEADLINES_H_
#define QUORUMKV_COMMON_DEADLINES_H_

#include <algorithm>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace quorumkv {

// The deadline for a call made for a request due at `outer`: a tenth of the
// time left earlier (at least 5 ms, at most 1 s), so that the inner hop's
// own failure ("2 of 3 acknowledged") reaches the outer caller before the
// caller's deadline turns it into a bare DEADLINE_EXCEEDED. The client's
// request, the master's relay and a coordinator's calls to replicas nest so.
inline absl::Time InnerDeadline(absl::Time outer, absl::Time now = absl::Now()) {
  if (outer == absl::InfiniteFuture()) return outer;
  const absl::Duration margin =
      std::clamp((outer - now) / 10, absl::Milliseconds(5), absl::Seconds(1));
  return outer - margin;
}

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_DEADLINES_H_
