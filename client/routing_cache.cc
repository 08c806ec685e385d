#include "client/routing_cache.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/directory_codec.h"
#include "common/rpc_status.h"

namespace quorumkv {

RoutingCache::RoutingCache(
    MasterSet* masters, std::function<std::string(const absl::Status&)> describe)
    : masters_(masters), describe_(std::move(describe)) {}

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
  DirectoryPtr held = directory_.Get();
  {
    absl::MutexLock lock(&mu_);
    waiters_.push_back(std::move(done));
    if (fetching_) return;
    fetching_ = true;
    ++fetches_;
    if (staged_) held = std::make_shared<DirectoryView>(Directory());
    staged_ = false;
  }
  FetchFrom(masters_->preferred(), 0, deadline,
            std::make_shared<std::vector<std::string>>(), std::move(held));
}

void RoutingCache::FetchFrom(size_t master, size_t tried, absl::Time deadline,
                             std::shared_ptr<std::vector<std::string>> errors,
                             DirectoryPtr sent_with) {
  struct Fetch {
    grpc::ClientContext context;
    GetDirectoryRequest request;
    GetDirectoryResponse response;
  };
  auto fetch = std::make_shared<Fetch>();
  fetch->request.set_compact(true);
  fetch->request.set_known_epoch(sent_with->epoch());
  // Each master left gets its share of the time left: one that hangs
  // leaves time for the next.
  const size_t left = masters_->size() - tried;
  const absl::Time now = absl::Now();
  fetch->context.set_deadline(absl::ToChronoTime(std::min(
      deadline, now + std::max((deadline - now) / static_cast<double>(left),
                               absl::Milliseconds(500)))));
  masters_->stub(master)->async()->GetDirectory(
      &fetch->context, &fetch->request, &fetch->response,
      [this, fetch, master, tried, deadline, errors,
       sent_with](grpc::Status grpc_status) {
        absl::Status status = FromGrpcStatus(grpc_status);
        absl::StatusOr<Directory> directory;
        if (status.ok()) {
          masters_->Prefer(master);
          directory = DirectoryIn(sent_with->proto(), fetch->response);
          if (!directory.ok() && sent_with->epoch() > 0) {
            // A delta that does not fit: ask for the whole directory.
            FetchFrom(master, tried, deadline, errors,
                      std::make_shared<DirectoryView>(Directory()));
            return;
          }
          status = directory.status();
        } else if (MasterUnreachable(status)) {
          errors->push_back(
              absl::StrCat(masters_->address(master), ": ", status.message()));
          if (tried + 1 < masters_->size() && absl::Now() < deadline) {
            FetchFrom((master + 1) % masters_->size(), tried + 1, deadline,
                      errors, sent_with);
            return;
          }
          status = absl::Status(
              status.code(),
              absl::StrCat(masters_->size() > 1 ? "no master answered: "
                                                : "master ",
                           absl::StrJoin(*errors, "; ")));
        } else {
          status = absl::Status(
              status.code(), absl::StrCat("master ", masters_->address(master),
                                          ": ", status.message()));
        }
        if (!status.ok()) status = absl::Status(status.code(), describe_(status));
        OnFetched(fetch->response, std::move(directory), status);
      });
}

void RoutingCache::OnFetched(const GetDirectoryResponse& response,
                             absl::StatusOr<Directory> directory,
                             absl::Status status) {
  if (status.ok()) {
    const Directory& proto = *directory;
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
    directory_.Install(std::make_shared<DirectoryView>(*std::move(directory)));
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
