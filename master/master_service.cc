#include "master/master_service.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/address.h"
#include "common/grpc_util.h"
#include "common/limits.h"
#include "common/logging.h"
#include "common/rpc_status.h"
#include "common/status_macros.h"

namespace quorumkv {
absl::Status CheckSameCluster(const DirectoryView& directory,
                              const RegisterRequest& request) {
  const std::string& theirs = request.cluster_id();
  const std::string& ours = directory.proto().cluster_id();
  if (theirs.empty() || theirs == ours) return absl::OkStatus();
  const std::string what = absl::StrCat(
      "node ", request.node().id(), "'s data dir belongs to cluster ", theirs);
  absl::Status refused = absl::FailedPreconditionError(
      ours.empty()
          ? absl::StrCat(what,
                         ", and this master has not formed a cluster yet (its "
                         "data dir is new): point the node at the master of "
                         "cluster ", theirs, ", or start it with a new --data_dir")
          : absl::StrCat(what, ", not this master's cluster ", ours,
                         ": point the node at the master of cluster ", theirs,
                         ", or start it with a new --data_dir"));
  QKV_LOG(WARNING) << "registration refused: " << refused.message();
  return refused;
}

absl::Status CheckRackUnchanged(const DirectoryView& directory,
                                const NodeDescriptor& node) {
  const NodeDescriptor* known = directory.FindNode(node.id());
  if (known == nullptr || known->rack() == node.rack()) return absl::OkStatus();
  const uint32_t held = directory.PartitionsHeldBy(node.id());
  // A node that holds nothing may move: placement has nothing to break.
  if (held == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "node ", node.id(), " holds ", held, " partitions in rack ",
      known->rack(), " and came back with --rack=", node.rack(),
      "; accepting it would put two replicas of a partition in one rack. "
      "Restart it with --rack=", known->rack(),
      ", or decommission it and start it with a new --data_dir"));
}

absl::Status CheckDirectoryFormed(const DirectoryView& directory,
                                  const Membership& membership,
                                  uint32_t initial_nodes) {
  if (directory.formed()) return absl::OkStatus();
  return NotFormedError(membership.registered_count(), initial_nodes);
}

MasterServiceImpl::MasterServiceImpl(const Leadership* leadership,
                                     LeaderClient* leader,
                                     Membership* membership,
                                     DirectoryManager* directory,
                                     DirectoryHistory* history,
                                     MoveTracker* moves,
                                     DirectoryWatch* watch,
                                     AntiEntropyScheduler* anti_entropy,
                                     const ClusterStatusReporter* status,
                                     const TokenSet* tokens)
    : leadership_(leadership),
      leader_(leader),
      membership_(membership),
      directory_(directory),
      history_(history),
      moves_(moves),
      watch_(watch),
      anti_entropy_(anti_entropy),
      status_(status),
      auth_(tokens) {}

absl::Status MasterServiceImpl::NotLeaderAnswer() const {
  NotLeader detail;
  detail.set_leader(leadership_->leader());
  detail.set_term(leadership_->term());
  return NotLeaderError(
      detail, absl::StrCat("master ", leadership_->self(), " is a standby; ",
                           detail.leader().empty()
                               ? absl::StrCat("no leader is known (",
                                              leadership_->problem(), ")")
                               : absl::StrCat("the leader is ",
                                              detail.leader())));
}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* MasterServiceImpl::ForwardIfStandby(
    grpc::CallbackServerContext* context,
    void (MasterService::Stub::async_interface::*method)(
        grpc::ClientContext*, const Request*, Response*,
        std::function<void(grpc::Status)>),
    const Request& request, Response* response,
    std::function<absl::Status(const absl::Status& why, Response*)> fallback) {
  if (leader_ == nullptr || leadership_->IsLeader()) return nullptr;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  leader_->Call<Request, Response>(
      method, request, DeadlineOf(*context, absl::Seconds(10)),
      [reactor, response, fallback](absl::StatusOr<Response> answer) {
        if (answer.ok()) {
          *response = *std::move(answer);
          reactor->Finish(grpc::Status::OK);
        } else if (fallback) {
          reactor->Finish(ToGrpcStatus(fallback(answer.status(), response)));
        } else {
          reactor->Finish(ToGrpcStatus(answer.status()));
        }
      });
  return reactor;
}

absl::Status MasterServiceImpl::DoRegister(const RegisterRequest& request,
                                           RegisterResponse* response) {
  if (!leadership_->IsLeader()) return NotLeaderAnswer();
  const NodeDescriptor& node = request.node();
  if (node.id().empty()) return absl::InvalidArgumentError("node id is empty");
  if (node.rack().empty()) return absl::InvalidArgumentError("rack is empty");
  RETURN_IF_ERROR(ValidateAddress("node address", node.address()));
  RETURN_IF_ERROR(CheckSameCluster(*directory_->Get(), request));
  RETURN_IF_ERROR(CheckRackUnchanged(*directory_->Get(), node));
  const absl::Time now = absl::Now();
  RETURN_IF_ERROR(membership_->Register(request, now));
  moves_->OnRegistered(node);
  // A node registers when its process starts: a pass handed to it before
  // is lost, and waiting out its timeout would keep its partition
  // uncompared (and its tombstones and expired rows on disk) for minutes.
  anti_entropy_->OnRegistered(node.id());
  QKV_LOG(INFO) << "node " << node.id() << " registered from "
                << node.address() << " (rack " << node.rack() << ")";
  *response->mutable_directory() = directory_->Get()->proto();
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* MasterServiceImpl::Register(
    grpc::CallbackServerContext* context, const RegisterRequest* request,
    RegisterResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kAdmin); !s.ok()) {
    return FinishNow(context, s);
  }
  return FinishNow(context, DoRegister(*request, response));
}

grpc::ServerUnaryReactor* MasterServiceImpl::Heartbeat(
    grpc::CallbackServerContext* context, const HeartbeatRequest* request,
    HeartbeatResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kAdmin); !s.ok()) {
    return FinishNow(context, s);
  }
  if (!leadership_->IsLeader()) return FinishNow(context, NotLeaderAnswer());
  const absl::Time now = absl::Now();
  absl::Status status = membership_->Heartbeat(*request, now);
  response->set_directory_epoch(directory_->Get()->epoch());
  response->set_term(leadership_->term());
  if (status.ok()) {
    absl::flat_hash_set<std::string> down;
    for (const Member& member : membership_->Snapshot(now)) {
      if (member.state != DOWN) continue;
      response->add_down_nodes(member.node.id());
      down.insert(member.node.id());
    }
    anti_entropy_->OnHeartbeat(*request, *directory_->Get(), down, now,
                               response);
    bool waiting = false;
    for (StreamTask& task : moves_->OnHeartbeat(*request, &waiting)) {
      *response->add_streams() = std::move(task);
    }
    response->set_streams_waiting(waiting);
  }
  return FinishNow(context, status);
}

absl::Status MasterServiceImpl::DoLookup(const LookupRequest& request,
                                         LookupResponse* response) {
  RETURN_IF_ERROR(ValidateKey(request.key()));
  DirectoryPtr directory = directory_->Get();
  RETURN_IF_ERROR(CheckDirectoryFormed(*directory, *membership_,
                                       directory_->initial_nodes()));
  const uint32_t partition = directory->PartitionOf(request.key());
  response->set_partition(partition);
  response->set_epoch(directory->epoch());
  const absl::Time now = absl::Now();
  auto describe = [&](const std::string& id, ReplicaInfo* replica) {
    if (const NodeDescriptor* node = directory->FindNode(id)) {
      *replica->mutable_node() = *node;
    } else {
      replica->mutable_node()->set_id(id);
    }
    replica->set_state(MoveTracker::ShownState(*directory, id,
                                               membership_->StateOf(id, now)));
  };
  for (const std::string& id : directory->Replicas(partition)) {
    describe(id, response->add_replicas());
  }
  for (const std::string& id : directory->Joining(partition)) {
    describe(id, response->add_joining());
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* MasterServiceImpl::Lookup(
    grpc::CallbackServerContext* context, const LookupRequest* request,
    LookupResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
    return FinishNow(context, s);
  }
  return FinishNow(context, DoLookup(*request, response));
}

grpc::ServerUnaryReactor* MasterServiceImpl::GetDirectory(
    grpc::CallbackServerContext* context, const GetDirectoryRequest* request,
    GetDirectoryResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
    return FinishNow(context, s);
  }
  DirectoryPtr directory = directory_->Get();
  if (request->compact()) {
    *response->mutable_update() =
        *history_->UpdateFor(request->known_epoch(), directory);
  } else {
    *response->mutable_directory() = directory->proto();
  }
  const absl::Time now = absl::Now();
  for (const NodeDescriptor& node : directory->proto().nodes()) {
    response->add_states(membership_->StateOf(node.id(), now));
  }
  response->set_registered_nodes(membership_->registered_count());
  response->set_initial_nodes(directory_->initial_nodes());
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* MasterServiceImpl::ClusterStatus(
    grpc::CallbackServerContext* context, const ClusterStatusRequest* request,
    ClusterStatusResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
    return FinishNow(context, s);
  }
  // A standby asks the leader (loads and moves live there); when it cannot,
  // it describes what it follows and says so.
  if (auto* forwarded = ForwardIfStandby<ClusterStatusRequest,
                                         ClusterStatusResponse>(
          context, &MasterService::Stub::async_interface::ClusterStatus,
          *request, response,
          [this](const absl::Status& why, ClusterStatusResponse* out) {
            *out = status_->Describe();
            out->set_stale_reason(std::string(why.message()));
            return absl::OkStatus();
          })) {
    return forwarded;
  }
  *response = status_->Describe();
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* MasterServiceImpl::WatchDirectory(
    grpc::CallbackServerContext* context, const WatchDirectoryRequest* request,
    WatchDirectoryResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kAdmin); !s.ok()) {
    return FinishNow(context, s);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  watch_->Add(*request, directory_->Get(), history_, reactor, response);
  return reactor;
}

grpc::ServerUnaryReactor* MasterServiceImpl::ListMoves(
    grpc::CallbackServerContext* context, const ListMovesRequest* request,
    ListMovesResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
    return FinishNow(context, s);
  }
  if (auto* forwarded = ForwardIfStandby<ListMovesRequest, ListMovesResponse>(
          context, &MasterService::Stub::async_interface::ListMoves, *request,
          response)) {
    return forwarded;
  }
  *response = status_->Moves();
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* MasterServiceImpl::Plan(
    grpc::CallbackServerContext* context, const PlanRequest* request,
    PlanResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kAdmin); !s.ok()) {
    return FinishNow(context, s);
  }
  if (auto* forwarded = ForwardIfStandby<PlanRequest, PlanResponse>(
          context, &MasterService::Stub::async_interface::Plan, *request,
          response)) {
    return forwarded;
  }
  response->set_epoch(directory_->Get()->epoch());
  for (MoveStatus& move : moves_->Plan()) *response->add_moves() = std::move(move);
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* MasterServiceImpl::Decommission(
    grpc::CallbackServerContext* context, const DecommissionRequest* request,
    DecommissionResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kAdmin); !s.ok()) {
    return FinishNow(context, s);
  }
  if (auto* forwarded =
          ForwardIfStandby<DecommissionRequest, DecommissionResponse>(
              context, &MasterService::Stub::async_interface::Decommission,
              *request, response)) {
    return forwarded;
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  moves_->Decommission(
      request->node_id(), request->dry_run(),
      [reactor, response](absl::StatusOr<DecommissionResponse> result) {
        if (result.ok()) *response = *std::move(result);
        reactor->Finish(ToGrpcStatus(result.status()));
      });
  return reactor;
}

grpc::ServerUnaryReactor* MasterServiceImpl::Masters(
    grpc::CallbackServerContext* context, const MastersRequest*,
    MastersResponse* response) {
  if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
    return FinishNow(context, s);
  }
  response->set_address(leadership_->self());
  response->set_role(leadership_->IsLeader() ? "leader" : "standby");
  response->set_term(leadership_->term());
  response->set_leader(leadership_->leader());
  response->set_problem(leadership_->problem());
  return FinishNow(context, absl::OkStatus());
}

}  // namespace quorumkv
