#include "client/routing_cache.h"

#include <memory>
#include <utility>

#include "common/rpc_status.h"

namespace quorumkv {

RoutingCache::RoutingCache(MasterService::Stub* master) : master_(master) {}

bool RoutingCache::IsDown(const std::string& node_id) const {
  absl::MutexLock lock(&mu_);
  return down_nodes_.contains(node_id);
}

absl::Status RoutingCache::NotFormed() const {
  absl::MutexLock lock(&mu_);
  return not_formed_;
}

uint64_t RoutingCache::fetches() const {
  absl::MutexLock lock(&mu_);
  return fetches_;
}

void RoutingCache::Refresh(absl::Time deadline,
                           std::function<void(absl::Status)> done) {
  {
    absl::MutexLock lock(&mu_);
    waiters_.push_back(std::move(done));
    if (fetching_) return;
    fetching_ = true;
    ++fetches_;
  }
  struct Fetch {
    grpc::ClientContext context;
    GetDirectoryRequest request;
    GetDirectoryResponse response;
  };
  auto fetch = std::make_shared<Fetch>();
  fetch->context.set_deadline(absl::ToChronoTime(deadline));
  master_->async()->GetDirectory(
      &fetch->context, &fetch->request, &fetch->response,
      [this, fetch](grpc::Status status) {
        OnFetched(fetch->response, FromGrpcStatus(status));
      });
}

void RoutingCache::OnFetched(const GetDirectoryResponse& response,
                             absl::Status status) {
  if (status.ok()) {
    const Directory& proto = response.directory();
    {
      absl::MutexLock lock(&mu_);
      down_nodes_.clear();
      for (int i = 0; i < proto.nodes_size() && i < response.states_size();
           ++i) {
        if (response.states(i) != UP) down_nodes_.insert(proto.nodes(i).id());
      }
      not_formed_ = NotFormedError(response.registered_nodes(),
                                   response.initial_nodes());
    }
    directory_.Install(std::make_shared<DirectoryView>(proto));
  }
  std::vector<std::function<void(absl::Status)>> waiters;
  {
    absl::MutexLock lock(&mu_);
    waiters.swap(waiters_);
    fetching_ = false;
  }
  for (auto& done : waiters) done(status);
}

}  // namespace quorumkv
