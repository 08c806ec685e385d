// The KvService methods (proto/kv.proto) as every server of them takes
// them: each unary call, and each request of a Batch stream, needs a data
// token (when the server has tokens), gets `kDefaultDeadline` when its
// caller set none, and goes to the server's dispatcher; written once for
// the storage node's front (storage_node/kv_service.h) and the master's
// relay (master/relay.h), so that a new method is added here alone.
//
// `Derived` provides `Dispatcher()`: an overload set callable as
// handle(const Request&, absl::Time deadline, done, const
// CancellationPtr&) for every method (common/kv_methods.h). Thread-safe as
// the dispatcher is.
#ifndef QUORUMKV_COMMON_KV_SERVICE_FRONT_H_
#define QUORUMKV_COMMON_KV_SERVICE_FRONT_H_

#include "absl/time/time.h"
#include "common/batch_stream_server.h"
#include "common/call_auth.h"
#include "common/grpc_util.h"
#include "common/kv_methods.h"
#include "proto/kv.grpc.pb.h"

namespace quorumkv {

template <typename Derived>
class KvServiceFront : public KvService::CallbackService {
 public:
  // Deadline of requests whose caller set none.
  static constexpr absl::Duration kDefaultDeadline = absl::Seconds(10);

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* context,
                                const PutRequest* request,
                                PutResponse* response) override {
    return Unary(context, *request, response);
  }
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const GetRequest* request,
                                GetResponse* response) override {
    return Unary(context, *request, response);
  }
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* context,
                                   const DeleteRequest* request,
                                   DeleteResponse* response) override {
    return Unary(context, *request, response);
  }
  grpc::ServerUnaryReactor* Expire(grpc::CallbackServerContext* context,
                                   const ExpireRequest* request,
                                   ExpireResponse* response) override {
    return Unary(context, *request, response);
  }
  grpc::ServerUnaryReactor* Scan(grpc::CallbackServerContext* context,
                                 const ScanRequest* request,
                                 ScanResponse* response) override {
    return Unary(context, *request, response);
  }
  grpc::ServerUnaryReactor* Cas(grpc::CallbackServerContext* context,
                                const CasRequest* request,
                                CasResponse* response) override {
    return Unary(context, *request, response);
  }
  grpc::ServerBidiReactor<KvRequestBatch, KvReplyBatch>* Batch(
      grpc::CallbackServerContext* context) override {
    if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
      return RefuseStream<KvRequestBatch, KvReplyBatch>(s);
    }
    return ServeKvBatch(&open_streams_, kDefaultDeadline,
                        static_cast<Derived*>(this)->Dispatcher());
  }

  // Ends the open Batch streams once what they carry is answered; called
  // before the server shuts down, which would otherwise wait for them.
  void CloseStreams() { open_streams_.CloseAll(); }

 protected:
  // With `tokens` (null: auth off) every call needs a data token; it must
  // outlive the service.
  explicit KvServiceFront(const TokenSet* tokens) : auth_(tokens) {}

 private:
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context,
                                  const Request& request, Response* response) {
    if (absl::Status s = auth_.Check(*context, Role::kData); !s.ok()) {
      return FinishNow(context, s);
    }
    return ServeUnary(context, request, response, kDefaultDeadline,
                      static_cast<Derived*>(this)->Dispatcher());
  }

  const CallAuthorizer auth_;
  OpenStreams open_streams_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_KV_SERVICE_FRONT_H_
