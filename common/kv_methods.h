// The three KvService methods as types, so that code which forwards any of
// them (the master's relay, the SDK's retry loop) is written once:
//
//   KvMethod<PutRequest>::Call(stub, &context, &request, &response, done);
//
// and as members of a KvService.Batch message (Wrap, Unwrap).
#ifndef QUORUMKV_COMMON_KV_METHODS_H_
#define QUORUMKV_COMMON_KV_METHODS_H_

#include <cstdint>
#include <functional>
#include <utility>

#include "proto/kv.grpc.pb.h"

namespace quorumkv {

template <typename Request>
struct KvMethod;

#define QKV_DEFINE_KV_METHOD(Method, field, quorum_field, quorum_label)   \
  template <>                                                             \
  struct KvMethod<Method##Request> {                                      \
    using Request = Method##Request;                                      \
    using Response = Method##Response;                                    \
    /* "W" or "R", for messages. */                                       \
    static constexpr const char* kQuorumName = quorum_label;              \
    static uint32_t Quorum(const Request& r) { return r.quorum_field(); } \
    static void SetQuorum(Request& r, uint32_t q) { r.set_##quorum_field(q); } \
    static void Call(KvService::Stub* stub, grpc::ClientContext* context, \
                     const Request* request, Response* response,          \
                     std::function<void(grpc::Status)> done) {            \
      stub->async()->Method(context, request, response, std::move(done)); \
    }                                                                     \
    static Request* Wrap(KvRequest& batched) {                            \
      return batched.mutable_##field();                                   \
    }                                                                     \
    static Response* Unwrap(KvReply& reply) {                             \
      return reply.mutable_##field();                                     \
    }                                                                     \
  }

QKV_DEFINE_KV_METHOD(Put, put, w, "W");
QKV_DEFINE_KV_METHOD(Get, get, r, "R");
QKV_DEFINE_KV_METHOD(Delete, del, w, "W");

#undef QKV_DEFINE_KV_METHOD

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_KV_METHODS_H_
