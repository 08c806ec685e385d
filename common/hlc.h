// Versions and the hybrid logical clock that stamps them.
//
// A version is (wall_ms, logical, node_id), ordered lexicographically. Each
// storage node owns one HybridClock; the coordinator stamps every write with
// Now(), and every node Observe()s each version it receives, so a write that
// follows a read of version v always gets a version above v.
#ifndef QUORUMKV_COMMON_HLC_H_
#define QUORUMKV_COMMON_HLC_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "proto/kv.pb.h"

namespace quorumkv {

// <0, 0, >0 as a is below, equal to, above b.
int CompareVersions(const Version& a, const Version& b);
inline bool VersionLess(const Version& a, const Version& b) {
  return CompareVersions(a, b) < 0;
}

// "wall_ms.logical@node_id", as kvcli prints it.
std::string VersionToString(const Version& version);
// The reverse; INVALID_ARGUMENT naming the expected form otherwise.
absl::StatusOr<Version> ParseVersion(absl::string_view text);

// Thread-safe.
class HybridClock {
 public:
  // Milliseconds since the Unix epoch; injectable for tests.
  using WallClock = std::function<uint64_t()>;

  // How far a received version may lead this node's wall clock. A node
  // whose clock runs further ahead would otherwise drag every clock in the
  // cluster with it, and its writes would win over later ones for as long
  // as it leads.
  static constexpr uint64_t kDefaultMaxLeadMs = 10'000;

  explicit HybridClock(std::string node_id);
  HybridClock(std::string node_id, WallClock wall_clock,
              uint64_t max_lead_ms = kDefaultMaxLeadMs);

  // A version strictly above every version this clock has returned or
  // observed, and not below the wall clock.
  Version Now();

  // Moves the clock past `version` (a no-op when it is already ahead).
  // OUT_OF_RANGE, logged (at most every few seconds), and the clock left
  // alone when `version` leads the wall clock by more than the limit: a
  // replica refuses such a write, a reader returns the value as it is.
  absl::Status Observe(const Version& version);

 private:
  const std::string node_id_;
  const WallClock wall_clock_;
  const uint64_t max_lead_ms_;

  absl::Mutex mu_;
  uint64_t last_wall_ms_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t last_logical_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_skew_log_ms_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_HLC_H_
