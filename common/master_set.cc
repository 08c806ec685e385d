#include "common/master_set.h"

#include <algorithm>

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
  return set;
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
