// How a standby reaches the leader for what only the leader knows or does:
// the cluster status with the nodes' loads (it takes the heartbeats), the
// moves in flight, the plan and decommission (docs/architecture.md,
// "Masters"). A channel per leader address, made on first use; calls are
// asynchronous, so that no gRPC thread of the standby waits on the leader.
// Thread-safe.
#ifndef QUORUMKV_MASTER_LEADER_CLIENT_H_
#define QUORUMKV_MASTER_LEADER_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/deadlines.h"
#include "common/grpc_util.h"
#include "common/rpc_status.h"
#include "grpcpp/support/server_callback.h"
#include "master/leadership.h"
#include "proto/master.grpc.pb.h"

namespace quorumkv {

class LeaderClient {
 public:
  // `leadership` must outlive the client; calls are secured as `security`
  // says (the daemon's own identity and admin token).
  LeaderClient(const Leadership* leadership, ChannelSecurity security);

  // Sends `request` to the leader through `method` (a stub's async()
  // method) with a deadline inside `deadline`, and calls `done` with its
  // answer; UNAVAILABLE naming why when there is no leader to ask.
  template <typename Request, typename Response>
  void Call(void (MasterService::Stub::async_interface::*method)(
                grpc::ClientContext*, const Request*, Response*,
                std::function<void(grpc::Status)>),
            const Request& request, absl::Time deadline,
            std::function<void(absl::StatusOr<Response>)> done);

 private:
  // The leader's stub; UNAVAILABLE when none is known or it is this master.
  absl::StatusOr<MasterService::Stub*> Leader();

  const Leadership* const leadership_;
  const ChannelSecurity security_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<MasterService::Stub>> stubs_
      ABSL_GUARDED_BY(mu_);
};

template <typename Request, typename Response>
void LeaderClient::Call(void (MasterService::Stub::async_interface::*method)(
                            grpc::ClientContext*, const Request*, Response*,
                            std::function<void(grpc::Status)>),
                        const Request& request, absl::Time deadline,
                        std::function<void(absl::StatusOr<Response>)> done) {
  absl::StatusOr<MasterService::Stub*> leader = Leader();
  if (!leader.ok()) return done(leader.status());
  struct State {
    grpc::ClientContext context;
    Request request;
    Response response;
  };
  auto state = std::make_shared<State>();
  state->request = request;
  state->context.set_deadline(absl::ToChronoTime(InnerDeadline(deadline)));
  const std::string address = leadership_->leader();
  ((*leader)->async()->*method)(
      &state->context, &state->request, &state->response,
      [state, done = std::move(done), address](grpc::Status status) {
        if (status.ok()) return done(std::move(state->response));
        absl::Status failed = FromGrpcStatus(status);
        done(absl::Status(failed.code(),
                          absl::StrCat("leader ", address, ": ",
                                       failed.message())));
      });
}

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_LEADER_CLIENT_H_
