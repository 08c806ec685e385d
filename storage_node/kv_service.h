// KvService (proto/kv.proto) of a storage node: validates client requests,
// checks that this node holds the key's partition (WrongNode otherwise) and
// hands them to the Coordinator. Handlers return at once; the reactor
// finishes when the quorum is in.
#ifndef QUORUMKV_STORAGE_NODE_KV_SERVICE_H_
#define QUORUMKV_STORAGE_NODE_KV_SERVICE_H_

#include <functional>

#include "absl/time/time.h"
#include "common/directory.h"
#include "proto/kv.grpc.pb.h"
#include "storage_node/coordinator.h"
#include "storage_node/load_tracker.h"

namespace quorumkv {

class NodeKvService final : public KvService::CallbackService {
 public:
  // Deadline of requests whose caller set none.
  static constexpr absl::Duration kDefaultDeadline = absl::Seconds(10);

  // Pointers must outlive the service.
  NodeKvService(Coordinator* coordinator, const DirectoryHolder* directory,
                LoadTracker* load, std::function<void()> request_refresh);

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* context,
                                const PutRequest* request,
                                PutResponse* response) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const GetRequest* request,
                                GetResponse* response) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* context,
                                   const DeleteRequest* request,
                                   DeleteResponse* response) override;

 private:
  // Checks shared by every request; fills the partition and the directory
  // to route by.
  absl::Status Admit(absl::string_view key, uint64_t sender_epoch,
                     DirectoryPtr* directory, uint32_t* partition) const;
  template <typename Response>
  void Write(grpc::CallbackServerContext* context,
             grpc::ServerUnaryReactor* reactor, const std::string& key,
             VersionedValue value, uint32_t w, uint64_t epoch,
             Response* response);

  Coordinator* const coordinator_;
  const DirectoryHolder* const directory_;
  LoadTracker* const load_;
  const std::function<void()> request_refresh_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_KV_SERVICE_H_
