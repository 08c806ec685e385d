#include "master/etcd/leader_election.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"

namespace quorumkv {
namespace {

using etcdserverpb::Compare;
using etcdserverpb::TxnRequest;

constexpr absl::Duration kRetry = absl::Milliseconds(200);

}  // namespace

LeaderElection::LeaderElection(EtcdClient* etcd, std::string leader_key,
                               absl::Duration lease, Callbacks callbacks)
    : etcd_(etcd),
      leader_key_(std::move(leader_key)),
      lease_(lease),
      callbacks_(std::move(callbacks)) {}

LeaderElection::~LeaderElection() { Stop(); }

void LeaderElection::Start(std::string address) {
  {
    absl::MutexLock lock(&mu_);
    self_ = address;
  }
  address_ = std::move(address);
  thread_ = std::thread([this] { Loop(); });
}

std::string LeaderElection::self() const {
  absl::MutexLock lock(&mu_);
  return self_;
}

void LeaderElection::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void LeaderElection::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

bool LeaderElection::IsLeader() const {
  absl::MutexLock lock(&mu_);
  return absl::Now() < lead_until_;
}

uint64_t LeaderElection::term() const {
  absl::MutexLock lock(&mu_);
  return term_;
}

std::string LeaderElection::leader() const {
  absl::MutexLock lock(&mu_);
  return leader_;
}

std::string LeaderElection::problem() const {
  absl::MutexLock lock(&mu_);
  return problem_;
}

int64_t LeaderElection::lease_id() const {
  absl::MutexLock lock(&mu_);
  return lease_id_;
}

absl::Time LeaderElection::LeadUntil(absl::Time renewal_sent) const {
  // etcd counts the lease from when it applies the renewal, which is after
  // it was sent; the margin covers clocks that run at slightly different
  // rates.
  const absl::Duration margin =
      std::max(lease_ / 10, absl::Milliseconds(100));
  return renewal_sent + lease_ - margin;
}

void LeaderElection::Loop() {
  while (true) {
    const absl::Duration wait = Step();
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || woken_;
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), wait);
    woken_ = false;
    if (stopping_) break;
  }
  // Resign: the leader key goes with the lease, and a standby leads at
  // once rather than after the lease.
  int64_t lease;
  {
    absl::MutexLock lock(&mu_);
    lease = lease_id_;
  }
  if (IsLeader()) StepDown("this master is stopping");
  if (lease != 0) etcd_->LeaseRevoke(lease, absl::Seconds(1)).IgnoreError();
}

void LeaderElection::StepDown(const std::string& why) {
  {
    absl::MutexLock lock(&mu_);
    if (lead_until_ == absl::InfinitePast()) return;
    lead_until_ = absl::InfinitePast();
    leader_.clear();
    problem_ = why;
  }
  QKV_LOG(WARNING) << "no longer the leader: " << why;
  if (callbacks_.deposed) callbacks_.deposed(why);
}

absl::Duration LeaderElection::Step() {
  int64_t lease;
  absl::Time renewed, lead_until;
  {
    absl::MutexLock lock(&mu_);
    lease = lease_id_;
    renewed = lease_renewed_;
    lead_until = lead_until_;
  }
  const bool leading = lead_until != absl::InfinitePast();
  if (leading && absl::Now() >= lead_until) {
    std::string why;
    {
      absl::MutexLock lock(&mu_);
      why = problem_;
    }
    StepDown(absl::StrCat("the lease could not be renewed in time",
                          why.empty() ? "" : ": ", why));
  }
  // The lease: renewed every third of it, or granted.
  if (lease != 0 && absl::Now() - renewed >= lease_ / 3) {
    const absl::Time sent = absl::Now();
    auto renewal = etcd_->KeepAlive(lease, lease_ / 3);
    if (renewal.ok()) {
      absl::MutexLock lock(&mu_);
      lease_renewed_ = sent;
      if (lead_until_ != absl::InfinitePast()) lead_until_ = LeadUntil(sent);
    } else if (absl::IsNotFound(renewal.status())) {
      {
        absl::MutexLock lock(&mu_);
        lease_id_ = 0;
      }
      lease = 0;
      StepDown("the lease expired");
    } else {
      QKV_LOG(WARNING) << "cannot renew the master lease: "
                       << renewal.status().message();
      absl::MutexLock lock(&mu_);
      problem_ = std::string(renewal.status().message());
      if (lead_until_ != absl::InfinitePast()) {
        return std::min(kRetry, std::max(absl::ZeroDuration(),
                                         lead_until_ - absl::Now()));
      }
      return kRetry;
    }
  }
  if (lease == 0) {
    const absl::Time sent = absl::Now();
    auto granted = etcd_->LeaseGrant(lease_, lease_ / 3);
    if (!granted.ok()) {
      QKV_LOG(WARNING) << "cannot reach etcd: " << granted.status().message()
                       << "; retrying";
      absl::MutexLock lock(&mu_);
      problem_ = std::string(granted.status().message());
      return kRetry;
    }
    absl::MutexLock lock(&mu_);
    lease_id_ = granted->id();
    lease_renewed_ = sent;
  }
  if (IsLeader()) {
    // The key must still be this master's: one deleted behind its back
    // (its lease expired while it was paused, an operator) means another
    // may lead already.
    etcdserverpb::RangeRequest request;
    request.set_key(leader_key_);
    auto key = etcd_->Range(request, lease_ / 3);
    uint64_t term;
    {
      absl::MutexLock lock(&mu_);
      term = term_;
    }
    if (key.ok() && (key->kvs_size() == 0 ||
                     static_cast<uint64_t>(key->kvs(0).create_revision()) !=
                         term)) {
      StepDown("the leader key is no longer this master's");
      return absl::ZeroDuration();
    }
    absl::MutexLock lock(&mu_);
    return std::max(absl::Milliseconds(10),
                    lease_renewed_ + lease_ / 3 - absl::Now());
  }
  return Campaign();
}

absl::Duration LeaderElection::Campaign() {
  int64_t lease;
  absl::Time renewed;
  {
    absl::MutexLock lock(&mu_);
    lease = lease_id_;
    renewed = lease_renewed_;
  }
  TxnRequest txn;
  Compare* absent = txn.add_compare();
  absent->set_key(leader_key_);
  absent->set_target(Compare::CREATE);
  absent->set_result(Compare::EQUAL);
  absent->set_create_revision(0);
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(leader_key_);
  put->set_value(address_);
  put->set_lease(lease);
  txn.add_failure()->mutable_request_range()->set_key(leader_key_);
  auto result = etcd_->Txn(txn, lease_ / 3);
  if (!result.ok()) {
    absl::MutexLock lock(&mu_);
    problem_ = std::string(result.status().message());
    return kRetry;
  }
  if (result->succeeded()) {
    const uint64_t term = static_cast<uint64_t>(result->header().revision());
    absl::Status ready = callbacks_.elected ? callbacks_.elected(term)
                                            : absl::OkStatus();
    if (!ready.ok()) {
      // Leave the key to another master: delete it if it is still ours.
      TxnRequest resign;
      Compare* ours = resign.add_compare();
      ours->set_key(leader_key_);
      ours->set_target(Compare::CREATE);
      ours->set_result(Compare::EQUAL);
      ours->set_create_revision(static_cast<int64_t>(term));
      resign.add_success()->mutable_request_delete_range()->set_key(
          leader_key_);
      etcd_->Txn(resign, lease_ / 3).IgnoreError();
      QKV_LOG(ERROR) << "elected leader (term " << term
                     << ") but cannot lead: " << ready.message();
      absl::MutexLock lock(&mu_);
      problem_ = std::string(ready.message());
      return lease_ / 3;
    }
    {
      absl::MutexLock lock(&mu_);
      term_ = term;
      leader_ = address_;
      problem_.clear();
      lead_until_ = LeadUntil(renewed);
    }
    QKV_LOG(INFO) << "this master leads now, term " << term;
    return lease_ / 3;
  }
  const auto& range = result->responses(0).response_range();
  if (range.kvs_size() == 0) return absl::ZeroDuration();  // gone meanwhile
  const etcdserverpb::KeyValue& kv = range.kvs(0);
  if (kv.value() == address_ && kv.lease() != lease) {
    // This master's previous run: its lease is no one's any more.
    QKV_LOG(INFO) << "the leader key is this master's from before a restart; "
                     "releasing it";
    etcd_->LeaseRevoke(kv.lease(), lease_ / 3).IgnoreError();
    return absl::ZeroDuration();
  }
  if (kv.lease() == lease) {
    // This master stopped leading on its own clock (it could not renew in
    // time), but etcd kept the key: release it and campaign afresh, at a
    // new term.
    TxnRequest release;
    Compare* ours = release.add_compare();
    ours->set_key(leader_key_);
    ours->set_target(Compare::CREATE);
    ours->set_result(Compare::EQUAL);
    ours->set_create_revision(kv.create_revision());
    release.add_success()->mutable_request_delete_range()->set_key(leader_key_);
    etcd_->Txn(release, lease_ / 3).IgnoreError();
    QKV_LOG(INFO) << "released the leader key of term " << kv.create_revision()
                  << ", held since this master stopped leading";
    return absl::ZeroDuration();
  }
  bool changed;
  {
    absl::MutexLock lock(&mu_);
    changed = leader_ != kv.value() ||
              term_ != static_cast<uint64_t>(kv.create_revision());
    leader_ = kv.value();
    term_ = static_cast<uint64_t>(kv.create_revision());
    problem_.clear();
  }
  if (changed) {
    QKV_LOG(INFO) << "standby: the leader is " << kv.value() << ", term "
                  << kv.create_revision();
  }
  // The watch wakes this thread when the key goes; this is the fallback.
  return lease_ / 4;
}

}  // namespace quorumkv
