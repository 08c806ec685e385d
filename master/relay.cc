#include "master/relay.h"

#include <algorithm>
#include <limits>
#include <type_traits>
#include <functional>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/deadlines.h"
#include "common/kv_methods.h"
#include "common/kv_validation.h"
#include "common/limits.h"
#include "common/rpc_status.h"
#include "common/replica_router.h"
#include "common/status_macros.h"
#include "master/master_service.h"

namespace quorumkv {

// The relay's directory is the master's own, always current; its node
// states are the membership's (a standby's follow the leader's).
class RelayKvService::Source final : public RoutingSource {
 public:
  Source(const DirectoryManager* directory, const Membership* membership)
      : directory_(directory), membership_(membership) {}
  DirectoryPtr directory() const override { return directory_->Get(); }
  bool IsDown(const std::string& node_id) const override {
    return membership_->StateOf(node_id, absl::Now()) != UP;
  }
  void Refresh(absl::Time, std::function<void(absl::Status)> done) override {
    done(absl::OkStatus());
  }
  absl::Status NotFormed() const override {
    return CheckDirectoryFormed(*directory_->Get(), *membership_,
                                directory_->initial_nodes());
  }

 private:
  const DirectoryManager* const directory_;
  const Membership* const membership_;
};

RelayKvService::RelayKvService(const DirectoryManager* directory,
                               const Membership* membership,
                               RequestMetrics* metrics,
                               const DaemonSecurity& security)
    : KvServiceFront(security.tokens.get()),
      directory_(directory),
      membership_(membership),
      metrics_(metrics),
      nodes_(security.outgoing()),
      source_(std::make_unique<Source>(directory, membership)) {}

RelayKvService::~RelayKvService() = default;

absl::Status RelayKvService::Admit(absl::string_view key,
                                   const char* quorum_name,
                                   uint32_t quorum) const {
  RETURN_IF_ERROR(ValidateKey(key));
  DirectoryPtr directory = directory_->Get();
  RETURN_IF_ERROR(CheckDirectoryFormed(*directory, *membership_,
                                       directory_->initial_nodes()));
  return ResolveQuorum(quorum_name, quorum, directory->replication()).status();
}

absl::Status RelayKvService::AdmitScan(const ScanRequest& request) const {
  DirectoryPtr directory = directory_->Get();
  RETURN_IF_ERROR(CheckDirectoryFormed(*directory, *membership_,
                                       directory_->initial_nodes()));
  RETURN_IF_ERROR(ValidateScan(request, directory->partitions()));
  return ResolveQuorum("R", request.r(), directory->replication()).status();
}

void RelayKvService::WaitIdle() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ == 0;
  };
  mu_.Await(absl::Condition(&idle));
}

template <typename Request>
void RelayKvService::Start(
    const Request& request, absl::Time deadline,
    std::function<void(absl::StatusOr<typename KvMethod<Request>::Response>)>
        done,
    const CancellationPtr& cancellation) {
  using Method = KvMethod<Request>;
  auto counted =
      metrics_->Counting<Request>(/*relayed=*/true, std::move(done));
  absl::Status admitted;
  if constexpr (std::is_same_v<Request, ScanRequest>) {
    admitted = AdmitScan(request);
  } else {
    admitted = Admit(request.key(), Method::kQuorumName, Method::Quorum(request));
  }
  if constexpr (std::is_same_v<Request, CasRequest>) {
    if (admitted.ok()) admitted = ValidateCas(request);
    if (admitted.ok() && !request.any_key() &&
        !directory_->Get()->IsLinearizable(request.key())) {
      admitted = NotLinearizable(*directory_->Get(), request.key());
    }
  }
  if (admitted.ok()) {
    if constexpr (std::is_same_v<Request, PutRequest>) {
      admitted = ValidateValue(request.value());
      if (admitted.ok()) admitted = ValidateTtl(request.ttl_ms(), true);
    }
    if constexpr (std::is_same_v<Request, ExpireRequest>) {
      admitted = ValidateTtl(request.ttl_ms(), true);
    }
  }
  if constexpr (std::is_same_v<Request, GetRequest>) {
    if (admitted.ok() && !request.from_node().empty() &&
        directory_->Get()->FindNode(request.from_node()) == nullptr) {
      admitted = absl::InvalidArgumentError(
          absl::StrCat("unknown node ", request.from_node()));
    }
  }
  if (!admitted.ok()) {
    counted(absl::StatusOr<typename Method::Response>(std::move(admitted)));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
  }
  Request relayed = request;
  relayed.set_relayed(true);
  RouteOptions options;
  options.inner_deadline = true;  // the coordinator answers first
  options.one_round = true;       // the client tries another master
  options.who = "master";
  options.cancellation = cancellation;
  ReplicaRoute<Request>::Start(
      source_.get(), &nodes_, &timers_, std::move(relayed), deadline,
      std::move(options),
      [this, counted = std::move(counted)](
          absl::StatusOr<typename Method::Response> result) mutable {
        counted(std::move(result));
        absl::MutexLock lock(&mu_);
        --in_flight_;
      });
}

}  // namespace quorumkv
