// The KvService methods as types, so that code which handles or
// forwards any of them (a node's and the master's front ends, the master's
// relay, the SDK's retry loop) is written once: their quorum field, and
// their place in a KvService.Batch message (Wrap, Unwrap, Batched,
// DispatchBatched, ServeKvBatch).
#ifndef QUORUMKV_COMMON_KV_METHODS_H_
#define QUORUMKV_COMMON_KV_METHODS_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <functional>
#include <type_traits>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/batch_stream_server.h"
#include "common/directory.h"
#include "common/rpc_status.h"

#include "proto/kv.pb.h"

namespace quorumkv {

// The operation of a request, as metrics label it.
enum class KvOp {
  kGet = 0,
  kPut = 1,
  kDelete = 2,
  kExpire = 3,
  kScan = 4,
  kCas = 5
};
inline constexpr int kKvOps = 6;

template <typename Request>
struct KvMethod;

#define QKV_DEFINE_KV_METHOD(Method, field, quorum_field, quorum_label)   \
  template <>                                                             \
  struct KvMethod<Method##Request> {                                      \
    using Request = Method##Request;                                      \
    using Response = Method##Response;                                    \
    static constexpr KvOp kOp = KvOp::k##Method;                          \
    /* Writes: their callers learn whether a failed one may have */        \
    /* happened (common/write_outcome.h). */                               \
    static constexpr bool kWrites = kOp != KvOp::kGet;                     \
    /* Sending it again after an attempt that may have been applied */    \
    /* does no harm (last-writer-wins). */                                 \
    static constexpr bool kIdempotent = true;                              \
    /* "W" or "R", for messages. */                                       \
    static constexpr const char* kQuorumName = quorum_label;              \
    static uint32_t Quorum(const Request& r) { return r.quorum_field(); } \
    /* The partition whose replicas serve it. */                          \
    static uint32_t Partition(const DirectoryView& d, const Request& r) { \
      return d.PartitionOf(r.key());                                      \
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
QKV_DEFINE_KV_METHOD(Expire, expire, w, "W");

#undef QKV_DEFINE_KV_METHOD

template <>
struct KvMethod<ScanRequest> {
  using Request = ScanRequest;
  using Response = ScanResponse;
  static constexpr KvOp kOp = KvOp::kScan;
  static constexpr bool kWrites = false;
  static constexpr bool kIdempotent = true;
  static constexpr const char* kQuorumName = "R";
  static uint32_t Quorum(const Request& r) { return r.r(); }
  // A scan names its partition; it has no key.
  static uint32_t Partition(const DirectoryView&, const Request& r) {
    return r.partition();
  }
  static Request* Wrap(KvRequest& batched) { return batched.mutable_scan(); }
  static Response* Unwrap(KvReply& reply) { return reply.mutable_scan(); }
};

template <>
struct KvMethod<CasRequest> {
  using Request = CasRequest;
  using Response = CasResponse;
  static constexpr KvOp kOp = KvOp::kCas;
  static constexpr bool kWrites = true;
  // An increment sent again would count twice: once an attempt may have
  // been applied, the outcome is UNKNOWN rather than retried elsewhere.
  static constexpr bool kIdempotent = false;
  // Paxos needs a majority of the replicas; no quorum is chosen.
  static constexpr const char* kQuorumName = "majority";
  static uint32_t Quorum(const Request&) { return 0; }
  static uint32_t Partition(const DirectoryView& d, const Request& r) {
    return d.PartitionOf(r.key());
  }
  static Request* Wrap(KvRequest& batched) { return batched.mutable_cas(); }
  static Response* Unwrap(KvReply& reply) { return reply.mutable_cas(); }
};

// `request` as a member of a KvService.Batch message, carrying the time
// left until `deadline`.
template <typename Request>
KvRequest Batched(const Request& request, absl::Time deadline) {
  KvRequest batched;
  *KvMethod<Request>::Wrap(batched) = request;
  batched.set_timeout_ms(static_cast<uint32_t>(std::clamp<int64_t>(
      absl::ToInt64Milliseconds(deadline - absl::Now()), 1,
      std::numeric_limits<uint32_t>::max())));
  if (deadline != absl::InfiniteFuture()) {
    batched.set_deadline_unix_ms(absl::ToUnixMillis(deadline));
  }
  return batched;
}

// The answer to a request that must not be sent again (KvMethod::
// kIdempotent false) whose attempt failed with `status` after it may have
// been applied.
inline absl::Status OutcomeUnknown(const absl::Status& status) {
  return absl::UnknownError(absl::StrCat(
      "outcome unknown: the request was sent and then ", status.message()));
}

// How far the clocks of two machines may differ for KvRequest's absolute
// deadline to be trusted (they are kept in step by NTP).
inline constexpr absl::Duration kDeadlineClockAllowance =
    absl::Milliseconds(250);

// Runs one request of a KvService.Batch message through `handle`, an
// overload set callable as handle(const Request&, absl::Time deadline,
// std::function<void(absl::StatusOr<Response>)> done, const
// CancellationPtr& cancellation) for each method, with the deadline the
// request carries (`fallback` from now when none) and the cancellation of
// the call it came on (null when it has none); `reply` gets the KvReply
// once, from whatever thread `done` runs on.
template <typename Handle>
void DispatchBatched(const KvRequest& request, absl::Duration fallback,
                     Handle&& handle, const CancellationPtr& cancellation,
                     std::function<void(KvReply)> reply) {
  const absl::Time now = absl::Now();
  absl::Time deadline =
      now + (request.timeout_ms() > 0 ? absl::Milliseconds(request.timeout_ms())
                                      : fallback);
  if (request.deadline_unix_ms() > 0) {
    const absl::Time sender_deadline =
        absl::FromUnixMillis(request.deadline_unix_ms()) +
        kDeadlineClockAllowance;
    if (now >= sender_deadline) {
      KvReply late;
      late.set_id(request.id());
      ToRequestError(absl::DeadlineExceededError(absl::StrCat(
                         "request arrived ",
                         absl::FormatDuration(absl::Trunc(
                             now - sender_deadline + kDeadlineClockAllowance,
                             absl::Milliseconds(1))),
                         " after its sender's deadline; not started")),
                     late.mutable_error());
      reply(std::move(late));
      return;
    }
    deadline = std::min(deadline, sender_deadline);
  }
  auto run = [&](const auto& inner) {
    using Method = KvMethod<std::decay_t<decltype(inner)>>;
    handle(inner, deadline,
           [id = request.id(), reply = std::move(reply)](
               absl::StatusOr<typename Method::Response> response) {
             KvReply out;
             out.set_id(id);
             if (response.ok()) {
               *Method::Unwrap(out) = *std::move(response);
             } else {
               ToRequestError(response.status(), out.mutable_error());
             }
             reply(std::move(out));
           },
           cancellation);
  };
  switch (request.op_case()) {
    case KvRequest::kPut:
      return run(request.put());
    case KvRequest::kGet:
      return run(request.get());
    case KvRequest::kDel:
      return run(request.del());
    case KvRequest::kExpire:
      return run(request.expire());
    case KvRequest::kScan:
      return run(request.scan());
    case KvRequest::kCas:
      return run(request.cas());
    case KvRequest::OP_NOT_SET:
      break;
  }
  KvReply out;
  out.set_id(request.id());
  ToRequestError(absl::InvalidArgumentError("request without an operation"),
                 out.mutable_error());
  reply(std::move(out));
}

// A KvService.Batch call whose requests each go through `handle` (as
// DispatchBatched says), listed in `open` while it lives.
template <typename Handle>
grpc::ServerBidiReactor<KvRequestBatch, KvReplyBatch>* ServeKvBatch(
    OpenStreams* open, absl::Duration fallback, Handle handle) {
  using Server = BatchStreamServer<KvRequestBatch, KvReplyBatch, KvReply>;
  return new Server(
      [fallback, handle](KvRequestBatch& batch, typename Server::Responder out) {
        for (const KvRequest& request : batch.requests()) {
          DispatchBatched(request, fallback, handle, out.cancellation(),
                          [out](KvReply reply) mutable {
                            out.Send(std::move(reply));
                          });
        }
      },
      open);
}

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_KV_METHODS_H_
