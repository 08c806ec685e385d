// The masters a client, a storage node or a standby master is given
// (--master=a,b,c; docs/architecture.md, "Masters"): a channel to each, and
// which one to try first. Any master answers what reads the directory; only
// the leader takes registrations and heartbeats, and a standby that gets
// one answers NotLeader naming the leader, which callers then go to.
//
// Thread-safe. Stubs live as long as the set.
#ifndef QUORUMKV_COMMON_MASTER_SET_H_
#define QUORUMKV_COMMON_MASTER_SET_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/grpc_util.h"
#include "common/rpc_status.h"
#include "proto/master.grpc.pb.h"

namespace quorumkv {

// Whether a master's answer `status` says that it could not be reached (as
// opposed to an answer it gave): UNAVAILABLE without a typed detail, or
// the deadline passed.
bool MasterUnreachable(const absl::Status& status);

class MasterSet {
 public:
  // `list` is "HOST:PORT[,HOST:PORT...]"; INVALID_ARGUMENT naming `what`
  // (a flag) for an empty list or an empty, malformed or repeated address.
  static absl::StatusOr<std::unique_ptr<MasterSet>> Create(
      absl::string_view what, absl::string_view list,
      const ChannelSecurity& security);

  size_t size() const { return masters_.size(); }
  const std::string& address(size_t i) const { return masters_[i].address; }
  MasterService::Stub* stub(size_t i) const { return masters_[i].stub.get(); }
  // The list as given, for messages ("127.0.0.1:7000,127.0.0.1:7001").
  const std::string& list() const { return list_; }

  // The master to try first: the last one that answered, or the leader a
  // standby named.
  size_t preferred() const;
  void Prefer(size_t i);
  // Where the next recursive request goes. Every master relays: each set
  // starts on one picked at random, so that many clients spread over the
  // masters, and stays on it (its stream batches the requests) until a
  // request finds it unreachable; it then moves to the next one that has
  // not failed a request in the last kRestAfterFailure (while every one
  // has, to the next in turn).
  size_t NextRelay();
  // A request to master `i` found it unreachable or hung.
  void RelayFailed(size_t i);
  static constexpr absl::Duration kRestAfterFailure = absl::Seconds(2);

  // The index of `address` in the set; nullopt when the caller was not
  // given it.
  std::optional<size_t> IndexOf(absl::string_view address) const;

  // Calls `method` on the preferred master, then on each other in turn
  // while they cannot be reached (MasterUnreachable); with `leader_only`,
  // a standby's NotLeader sends the call to the leader it names (at most
  // once per master). Each attempt gets `timeout`. The master that answers
  // becomes the preferred one. When none answers, the error names every
  // master tried.
  template <typename Request, typename Response>
  absl::Status Call(grpc::Status (MasterService::Stub::*method)(
                        grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response,
                    absl::Duration timeout, bool leader_only = false);

 private:
  struct Master {
    std::string address;
    std::unique_ptr<MasterService::Stub> stub;
  };
  explicit MasterSet(std::string list) : list_(std::move(list)) {}

  const std::string list_;
  std::vector<Master> masters_;  // constant after construction

  mutable absl::Mutex mu_;
  size_t preferred_ ABSL_GUARDED_BY(mu_) = 0;
  size_t relay_ ABSL_GUARDED_BY(mu_) = 0;
  // When each master last failed a relayed request (InfinitePast: never).
  std::vector<absl::Time> relay_failed_at_ ABSL_GUARDED_BY(mu_);
};

// Implementation.

template <typename Request, typename Response>
absl::Status MasterSet::Call(grpc::Status (MasterService::Stub::*method)(
                                 grpc::ClientContext*, const Request&,
                                 Response*),
                             const Request& request, Response* response,
                             absl::Duration timeout, bool leader_only) {
  std::vector<std::string> failures;
  size_t next = preferred();
  // Each master once, plus one more try per standby that names a leader.
  size_t tries = size();
  for (size_t attempt = 0; attempt < tries; ++attempt) {
    const size_t i = next;
    grpc::ClientContext context;
    SetTimeout(context, timeout);
    absl::Status status =
        FromGrpcStatus((stub(i)->*method)(&context, request, response));
    if (leader_only) {
      if (std::optional<NotLeader> not_leader = GetNotLeader(status)) {
        failures.push_back(absl::StrCat(address(i), ": a standby (leader ",
                                        not_leader->leader().empty()
                                            ? "not known yet"
                                            : not_leader->leader(),
                                        ")"));
        // A leader this caller was not given is not tried: the next one
        // may know better.
        std::optional<size_t> leader = IndexOf(not_leader->leader());
        if (leader && *leader != i && tries < 2 * size()) ++tries;
        next = leader && *leader != i ? *leader : (i + 1) % size();
        continue;
      }
    }
    if (!MasterUnreachable(status)) {
      Prefer(i);
      return status;
    }
    failures.push_back(absl::StrCat(address(i), ": ", status.message()));
    next = (i + 1) % size();
  }
  return absl::UnavailableError(absl::StrCat(
      size() == 1 ? "master " : "no master answered: ",
      absl::StrJoin(failures, "; ")));
}

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_MASTER_SET_H_
