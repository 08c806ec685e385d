#include "doors/resp/scan_cursors.h"

#include <utility>

namespace quorumkv {

uint64_t ScanCursors::Make(uint32_t partition, std::string start_after) {
  const uint64_t base = uint64_t{partition} << kTokenBits;
  if (start_after.empty()) return base;
  absl::MutexLock lock(&mu_);
  const uint64_t token = next_token_;
  next_token_ = next_token_ + 1 == (uint64_t{1} << kTokenBits) ? 1 : next_token_ + 1;
  kept_[token] = std::move(start_after);
  order_.push_back(token);
  while (order_.size() > kMaxKept) {
    kept_.erase(order_.front());
    order_.pop_front();
  }
  return base | token;
}

std::optional<ScanCursors::Position> ScanCursors::Resolve(
    uint64_t cursor, uint32_t partitions) {
  Position position;
  const uint64_t partition = cursor >> kTokenBits;
  if (partition >= partitions) return std::nullopt;
  position.partition = static_cast<uint32_t>(partition);
  const uint64_t token = cursor & ((uint64_t{1} << kTokenBits) - 1);
  if (token != 0) {
    absl::MutexLock lock(&mu_);
    auto kept = kept_.find(token);
    if (kept != kept_.end()) position.start_after = kept->second;
  }
  return position;
}

}  // namespace quorumkv
