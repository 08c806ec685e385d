#include "common/hlc.h"

#include <tuple>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"

namespace quorumkv {

int CompareVersions(const Version& a, const Version& b) {
  auto key = [](const Version& v) {
    return std::make_tuple(v.wall_ms(), v.logical());
  };
  if (key(a) != key(b)) return key(a) < key(b) ? -1 : 1;
  return a.node_id().compare(b.node_id());
}

absl::StatusOr<Version> ParseVersion(absl::string_view text) {
  const size_t dot = text.find('.');
  const size_t at = text.find('@');
  uint64_t wall = 0;
  uint32_t logical = 0;
  if (dot == absl::string_view::npos || at == absl::string_view::npos ||
      at < dot || !absl::SimpleAtoi(text.substr(0, dot), &wall) ||
      !absl::SimpleAtoi(text.substr(dot + 1, at - dot - 1), &logical) ||
      at + 1 == text.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "version '", text, "' is not of the form WALL_MS.LOGICAL@NODE_ID "
        "(as get --json prints it)"));
  }
  Version version;
  version.set_wall_ms(wall);
  version.set_logical(logical);
  version.set_node_id(std::string(text.substr(at + 1)));
  return version;
}

std::string VersionToString(const Version& version) {
  return absl::StrCat(version.wall_ms(), ".", version.logical(), "@",
                      version.node_id());
}

HybridClock::HybridClock(std::string node_id)
    : HybridClock(std::move(node_id), [] {
        return static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
      }) {}

HybridClock::HybridClock(std::string node_id, WallClock wall_clock,
                         uint64_t max_lead_ms)
    : node_id_(std::move(node_id)),
      wall_clock_(std::move(wall_clock)),
      max_lead_ms_(max_lead_ms) {}

Version HybridClock::Now() {
  const uint64_t wall = wall_clock_();
  absl::MutexLock lock(&mu_);
  if (wall > last_wall_ms_) {
    last_wall_ms_ = wall;
    last_logical_ = 0;
  } else {
    ++last_logical_;
  }
  Version version;
  version.set_wall_ms(last_wall_ms_);
  version.set_logical(last_logical_);
  version.set_node_id(node_id_);
  return version;
}

absl::Status HybridClock::Observe(const Version& version) {
  const uint64_t wall = wall_clock_();
  absl::MutexLock lock(&mu_);
  if (version.wall_ms() > wall + max_lead_ms_) {
    absl::Status status = absl::OutOfRangeError(absl::StrCat(
        "version ", VersionToString(version), " is ",
        (version.wall_ms() - wall) / 1000.0, " s ahead of the clock of node ",
        node_id_, " (at most ", max_lead_ms_ / 1000.0,
        " s allowed): the clock of ",
        version.node_id().empty() ? "its writer"
                                  : absl::StrCat("node ", version.node_id()),
        " runs ahead; check its time synchronisation"));
    if (wall >= last_skew_log_ms_ + 5000) {
      last_skew_log_ms_ = wall;
      QKV_LOG(WARNING) << status.message();
    }
    return status;
  }
  if (std::make_pair(version.wall_ms(), version.logical()) >
      std::make_pair(last_wall_ms_, last_logical_)) {
    last_wall_ms_ = version.wall_ms();
    last_logical_ = version.logical();
  }
  return absl::OkStatus();
}

}  // namespace quorumkv
