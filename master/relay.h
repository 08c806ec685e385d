// KvService (proto/kv.proto) on the master: the recursive query style. Each
// request is validated, routed by the master's directory to a live replica
// of the key's partition (UP replicas first, in directory order) and relayed
// with the caller's deadline; the replica's answer is returned unchanged.
// When a replica cannot be reached the next one is tried. Handlers never
// block: relayed calls use gRPC's callback API.
#ifndef QUORUMKV_MASTER_RELAY_H_
#define QUORUMKV_MASTER_RELAY_H_

#include "common/grpc_util.h"
#include "common/kv_methods.h"
#include "common/timer_queue.h"
#include "master/directory_manager.h"
#include "master/membership.h"
#include "proto/kv.grpc.pb.h"

namespace quorumkv {

class RelayKvService final : public KvService::CallbackService {
 public:
  // Pointers must outlive the service and every relayed call.
  RelayKvService(const DirectoryManager* directory,
                 const Membership* membership);

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* context,
                                const PutRequest* request,
                                PutResponse* response) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const GetRequest* request,
                                GetResponse* response) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* context,
                                   const DeleteRequest* request,
                                   DeleteResponse* response) override;

  // Blocks until every relayed request has been answered (each has a
  // deadline).
  void WaitIdle();

 private:
  template <typename Request>
  struct Relay;

  // Checks shared by every request; `quorum` is W or R as requested.
  absl::Status Admit(absl::string_view key, const char* quorum_name,
                     uint32_t quorum, DirectoryPtr* directory,
                     std::vector<const NodeDescriptor*>* targets) const;
  // Admits `request` and relays it; the one body behind Put, Get, Delete.
  template <typename Request>
  grpc::ServerUnaryReactor* Start(
      grpc::CallbackServerContext* context, const Request& request,
      typename KvMethod<Request>::Response* response);
  // Sends the request to the next target, or finishes when none is left.
  template <typename Request>
  void Attempt(std::shared_ptr<Relay<Request>> relay);
  // Answers the caller; the relay is over.
  template <typename Request>
  void Finish(Relay<Request>& relay, const grpc::Status& status);

  const DirectoryManager* const directory_;
  const Membership* const membership_;
  StubPool<KvService> nodes_;
  TimerQueue timers_;

  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;  // relays not yet answered
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_RELAY_H_
