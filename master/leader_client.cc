#include "master/leader_client.h"

#include <utility>

namespace quorumkv {

LeaderClient::LeaderClient(const Leadership* leadership,
                           ChannelSecurity security)
    : leadership_(leadership), security_(std::move(security)) {}

absl::StatusOr<MasterService::Stub*> LeaderClient::Leader() {
  const std::string leader = leadership_->leader();
  if (leader.empty()) {
    const std::string why = leadership_->problem();
    return absl::UnavailableError(absl::StrCat(
        "no leader", why.empty() ? "" : ": ", why));
  }
  absl::MutexLock lock(&mu_);
  std::unique_ptr<MasterService::Stub>& stub = stubs_[leader];
  if (stub == nullptr) {
    stub = MasterService::NewStub(MakeChannel(leader, security_));
  }
  return stub.get();
}

}  // namespace quorumkv
