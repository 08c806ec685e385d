#include "master/etcd/master_roster.h"

#include <algorithm>
#include <utility>

#include "common/logging.h"

namespace quorumkv {
namespace {

constexpr absl::Duration kRefreshInterval = absl::Seconds(2);
constexpr absl::Duration kEtcdTimeout = absl::Seconds(2);

}  // namespace

MasterRoster::MasterRoster(EtcdClient* etcd, std::string prefix,
                           const LeaderElection* election)
    : etcd_(etcd),
      prefix_(std::move(prefix) + "/masters/"),
      election_(election),
      refresh_([this] { return Refresh(); }) {}

MasterRoster::~MasterRoster() { Stop(); }

void MasterRoster::Start() { refresh_.Start(); }

void MasterRoster::Stop() { refresh_.Stop(); }

std::vector<std::string> MasterRoster::Masters() const {
  absl::MutexLock lock(&mu_);
  return masters_;
}

absl::Duration MasterRoster::Refresh() {
  const int64_t lease = election_->lease_id();
  const std::string self = election_->self();
  if (lease != 0 && lease != registered_lease_ && !self.empty()) {
    etcdserverpb::TxnRequest txn;
    etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
    put->set_key(prefix_ + self);
    put->set_value(self);
    put->set_lease(lease);
    absl::StatusOr<etcdserverpb::TxnResponse> done = etcd_->Txn(txn, kEtcdTimeout);
    if (done.ok()) registered_lease_ = lease;
  }
  etcdserverpb::RangeRequest request;
  request.set_key(prefix_);
  request.set_range_end(PrefixEnd(prefix_));
  absl::StatusOr<etcdserverpb::RangeResponse> keys =
      etcd_->Range(request, kEtcdTimeout);
  if (!keys.ok()) return kRefreshInterval;  // keep what was read last
  std::vector<std::string> masters;
  for (const auto& kv : keys->kvs()) masters.push_back(kv.value());
  std::sort(masters.begin(), masters.end());
  absl::MutexLock lock(&mu_);
  masters_ = std::move(masters);
  return kRefreshInterval;
}

}  // namespace quorumkv
