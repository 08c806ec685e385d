#include "common/master_set.h"

#include <algorithm>

#include "absl/random/random.h"
#include "common/address.h"

namespace quorumkv {

bool MasterUnreachable(const absl::Status& status) {
  return (absl::IsUnavailable(status) && !GetErrorDetail(status)) ||
         absl::IsDeadlineExceeded(status);
}

absl::StatusOr<std::unique_ptr<MasterSet>> MasterSet::Create(
    absl::string_view what, absl::string_view list,
    const ChannelSecurity& security) {
  absl::StatusOr<std::vector<std::string>> addresses =
      ParseAddressList(what, list);
  if (!addresses.ok()) return addresses.status();
  std::unique_ptr<MasterSet> set(new MasterSet(absl::StrJoin(*addresses, ",")));
  for (const std::string& address : *addresses) {
    set->masters_.push_back(
        {address, MasterService::NewStub(MakeChannel(address, security))});
  }
  absl::MutexLock lock(&set->mu_);
  set->relay_failed_at_.assign(set->masters_.size(), absl::InfinitePast());
  set->relay_ = absl::Uniform<size_t>(absl::BitGen(), 0, set->masters_.size());
  return set;
}

size_t MasterSet::NextRelay() {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < masters_.size(); ++i) {
    const size_t m = (relay_ + i) % masters_.size();
    if (now - relay_failed_at_[m] >= kRestAfterFailure) {
      relay_ = m;
      return m;
    }
  }
  return relay_;
}

void MasterSet::RelayFailed(size_t i) {
  absl::MutexLock lock(&mu_);
  relay_failed_at_[i] = absl::Now();
  // Every one has failed: the next request tries the next in turn.
  if (i == relay_) relay_ = (i + 1) % masters_.size();
}

size_t MasterSet::preferred() const {
  absl::MutexLock lock(&mu_);
  return preferred_;
}

void MasterSet::Prefer(size_t i) {
  absl::MutexLock lock(&mu_);
  preferred_ = i;
}

std::optional<size_t> MasterSet::IndexOf(absl::string_view address) const {
  for (size_t i = 0; i < masters_.size(); ++i) {
    if (masters_[i].address == address) return i;
  }
  return std::nullopt;
}

}  // namespace quorumkv
