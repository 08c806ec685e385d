// Client::CompareAndSet and Client::Increment: a CasRequest routed like any
// write of its key (iterative or recursive); the node that serves it runs
// the Paxos round (storage_node/paxos/proposer.h).
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/client_internal.h"
#include "common/hlc.h"
#include "common/kv_validation.h"
#include "common/limits.h"
#include "common/status_macros.h"
#include "quorumkv/client.h"

namespace quorumkv {
namespace {

CasResult ToCasResult(CasResponse response) {
  CasResult result;
  result.applied = response.applied();
  result.found = response.found();
  result.value = std::move(*response.mutable_value());
  if (response.has_version()) result.version = VersionToString(response.version());
  result.expires_at_ms = response.expires_at_ms();
  return result;
}

}  // namespace

void internal::ClientImpl::CasAsync(
    CasRequest request, absl::Duration timeout,
    std::function<void(absl::StatusOr<CasResult>)> done) {
  if (absl::Status s = ValidateCas(request); !s.ok()) {
    return CallBackSoon([done = std::move(done), s] { done(s); });
  }
  const absl::Duration wait =
      timeout > absl::ZeroDuration() ? timeout : options_.timeout;
  Submit(std::move(request), absl::Now() + wait,
         [done = std::move(done)](absl::StatusOr<CasResponse> r) {
           if (!r.ok()) return done(r.status());
           done(ToCasResult(*std::move(r)));
         });
}

absl::StatusOr<CasResult> internal::ClientImpl::Cas(CasRequest request,
                                                    absl::Duration timeout) {
  absl::Notification answered;
  absl::StatusOr<CasResult> result;
  CasAsync(std::move(request), timeout, [&](absl::StatusOr<CasResult> r) {
    result = std::move(r);
    answered.Notify();
  });
  answered.WaitForNotification();
  return result;
}

absl::StatusOr<CasResult> Client::CompareAndSet(
    absl::string_view key, const CasCondition& condition,
    std::optional<std::string> value, const WriteOptions& options) {
  const int conditions = (condition.if_version ? 1 : 0) +
                         (condition.if_absent ? 1 : 0) +
                         (condition.if_value ? 1 : 0);
  if (conditions > 1) {
    return absl::InvalidArgumentError(
        "a compare-and-set takes one condition: a version, absent, or a "
        "value");
  }
  CasRequest request;
  request.set_key(std::string(key));
  if (condition.if_version) {
    ASSIGN_OR_RETURN(*request.mutable_if_version(),
                     ParseVersion(*condition.if_version));
  } else if (condition.if_absent) {
    request.set_if_absent(true);
  } else if (condition.if_value) {
    request.set_if_value(*condition.if_value);
  }
  if (value) {
    request.set_value(*std::move(value));
    if (options.ttl < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "TTL ", absl::FormatDuration(options.ttl), " is negative"));
    }
    request.set_ttl_ms(static_cast<uint64_t>(absl::ToInt64Milliseconds(
        absl::Ceil(options.ttl, absl::Milliseconds(1)))));
  } else {
    if (options.ttl != absl::ZeroDuration()) {
      return absl::InvalidArgumentError("a delete takes no TTL");
    }
    request.set_delete_(true);
  }
  return impl_->Cas(std::move(request), options.timeout);
}

absl::StatusOr<CasResult> Client::Increment(absl::string_view key,
                                            int64_t delta,
                                            const RequestOptions& options) {
  absl::Notification answered;
  absl::StatusOr<CasResult> result;
  IncrementAsync(key, delta, options, [&](absl::StatusOr<CasResult> r) {
    result = std::move(r);
    answered.Notify();
  });
  answered.WaitForNotification();
  return result;
}

void Client::IncrementAsync(absl::string_view key, int64_t delta,
                            const RequestOptions& options, CasCallback done) {
  CasRequest request;
  request.set_key(std::string(key));
  request.set_increment(delta);
  impl_->CasAsync(std::move(request), options.timeout, std::move(done));
}

}  // namespace quorumkv
