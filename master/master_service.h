// MasterService (proto/master.proto): registrations and heartbeats from
// storage nodes, directory look-ups for iterative clients and nodes, and the
// cluster status behind `kvcli nodes`, and the moves behind `kvcli moves`,
// `plan` and `decommission`. Handlers do local work only (directory changes
// are persisted by the move tracker's thread), or, on a standby, ask the
// leader asynchronously: the leader alone takes registrations and
// heartbeats (a standby answers NotLeader naming it) and knows the loads
// and the moves' progress.
#ifndef QUORUMKV_MASTER_MASTER_SERVICE_H_
#define QUORUMKV_MASTER_MASTER_SERVICE_H_

#include "common/call_auth.h"
#include "master/anti_entropy_scheduler.h"
#include "master/cluster_status.h"
#include "master/directory_history.h"
#include "master/directory_manager.h"
#include "master/directory_watch.h"
#include "master/leader_client.h"
#include "master/leadership.h"
#include "master/membership.h"
#include "master/move_tracker.h"
#include "proto/master.grpc.pb.h"

namespace quorumkv {

// FAILED_PRECONDITION when a node whose data dir belongs to one cluster
// registers with the master of another (or with a master that has formed
// none yet): its data must not mix with this cluster's.
absl::Status CheckSameCluster(const DirectoryView& directory,
                              const RegisterRequest& request);

// FAILED_PRECONDITION when `node` registers with a rack other than the one
// the directory knows it by while it holds partitions there.
absl::Status CheckRackUnchanged(const DirectoryView& directory,
                                const NodeDescriptor& node);

// UNAVAILABLE saying how many nodes have registered and how many are needed,
// when `directory` is not formed yet; OK otherwise.
absl::Status CheckDirectoryFormed(const DirectoryView& directory,
                                  const Membership& membership,
                                  uint32_t initial_nodes);

class MasterServiceImpl final : public MasterService::CallbackService {
 public:
  // Pointers must outlive the service.
  MasterServiceImpl(const Leadership* leadership,
                    LeaderClient* leader, Membership* membership,
                    DirectoryManager* directory,
                    DirectoryHistory* history, MoveTracker* moves,
                    DirectoryWatch* watch, AntiEntropyScheduler* anti_entropy,
                    const ClusterStatusReporter* status,
                    const TokenSet* tokens);

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* context,
                                     const RegisterRequest* request,
                                     RegisterResponse* response) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const HeartbeatRequest* request,
                                      HeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* Lookup(grpc::CallbackServerContext* context,
                                   const LookupRequest* request,
                                   LookupResponse* response) override;
  grpc::ServerUnaryReactor* GetDirectory(
      grpc::CallbackServerContext* context,
      const GetDirectoryRequest* request,
      GetDirectoryResponse* response) override;
  grpc::ServerUnaryReactor* ClusterStatus(
      grpc::CallbackServerContext* context,
      const ClusterStatusRequest* request,
      ClusterStatusResponse* response) override;
  grpc::ServerUnaryReactor* WatchDirectory(
      grpc::CallbackServerContext* context,
      const WatchDirectoryRequest* request,
      WatchDirectoryResponse* response) override;
  grpc::ServerUnaryReactor* ListMoves(grpc::CallbackServerContext* context,
                                      const ListMovesRequest* request,
                                      ListMovesResponse* response) override;
  grpc::ServerUnaryReactor* Plan(grpc::CallbackServerContext* context,
                                 const PlanRequest* request,
                                 PlanResponse* response) override;
  grpc::ServerUnaryReactor* Decommission(
      grpc::CallbackServerContext* context,
      const DecommissionRequest* request,
      DecommissionResponse* response) override;
  grpc::ServerUnaryReactor* Masters(grpc::CallbackServerContext* context,
                                    const MastersRequest* request,
                                    MastersResponse* response) override;

 private:
  absl::Status DoRegister(const RegisterRequest& request,
                          RegisterResponse* response);
  absl::Status DoLookup(const LookupRequest& request,
                        LookupResponse* response);
  // FAILED_PRECONDITION with NotLeader naming the leader: for what only
  // the leader takes.
  absl::Status NotLeaderAnswer() const;
  // On a standby: answers `context` with what the leader answers to
  // `request` through `method`, or with `fallback`'s outcome when the
  // leader cannot be asked. Returns nullptr on the leader (which serves it
  // itself).
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* ForwardIfStandby(
      grpc::CallbackServerContext* context,
      void (MasterService::Stub::async_interface::*method)(
          grpc::ClientContext*, const Request*, Response*,
          std::function<void(grpc::Status)>),
      const Request& request, Response* response,
      std::function<absl::Status(const absl::Status& why, Response*)>
          fallback = nullptr);

  const Leadership* const leadership_;
  LeaderClient* const leader_;  // null for the embedded master
  Membership* const membership_;
  DirectoryManager* const directory_;
  DirectoryHistory* const history_;
  MoveTracker* const moves_;
  DirectoryWatch* const watch_;
  AntiEntropyScheduler* const anti_entropy_;
  const ClusterStatusReporter* const status_;
  // Nodes' calls and plan/decommission need an admin token, reading the
  // cluster a data token (when the master has --auth_token_file).
  const CallAuthorizer auth_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_MASTER_SERVICE_H_
