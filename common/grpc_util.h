// Channels, stubs and server settings shared by every QuorumKV process.
#ifndef QUORUMKV_COMMON_GRPC_UTIL_H_
#define QUORUMKV_COMMON_GRPC_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "common/cancellation.h"
#include "common/rpc_status.h"
#include "common/tls.h"

namespace quorumkv {

// gRPC's message for a connection that could not be made, in plain words
// with what to check ("nothing answers there (connection refused): is the
// cluster up?"); other messages come back as they are.
std::string PlainConnectError(absl::string_view message);

// How a process proves who it is when it calls another: the one value every
// channel of ours is made from. Default: plaintext, no token.
struct ChannelSecurity {
  // Sent as a bearer token with every call when not empty
  // (common/call_auth.h).
  std::string token;
  // Mutual TLS (common/tls.h) when set; plaintext when null.
  std::shared_ptr<const TlsConfig> tls;
};

// A channel to `address` with message limits raised to fit the largest
// value (common/limits.h), secured as `security` says.
std::shared_ptr<grpc::Channel> MakeChannel(
    const std::string& address, const ChannelSecurity& security = {});

// Starts a server on `listen` (HOST:PORT; port 0 picks one) serving
// `services`, which must outlive it, besides the standard health service
// (grpc.health.v1.Health) and server reflection, with message limits raised
// to fit the largest value; mutual TLS with `tls`, plaintext when null.
// `*address` gets HOST:PORT with the bound port. UNAVAILABLE when the
// address cannot be bound.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartServer(
    const std::string& listen, const std::vector<grpc::Service*>& services,
    std::string* address, const TlsConfig* tls = nullptr);

// Sets `context`'s deadline `timeout` from now.
void SetTimeout(grpc::ClientContext& context, absl::Duration timeout);

// The deadline the caller of a served RPC set, or `fallback` from now when
// it set none: every outgoing call has a deadline.
absl::Time DeadlineOf(const grpc::ServerContextBase& context,
                      absl::Duration fallback);

// Serves a unary call of a callback service through `handle`, callable as
// handle(request, deadline, done) where `done` takes an
// absl::StatusOr<Response>: the one shape of every unary data method.
template <typename Request, typename Response, typename Handle>
grpc::ServerUnaryReactor* ServeUnary(grpc::CallbackServerContext* context,
                                     const Request& request,
                                     Response* response,
                                     absl::Duration fallback_deadline,
                                     Handle&& handle) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // A unary call's cancellation is not followed: it ends at its deadline.
  handle(request, DeadlineOf(*context, fallback_deadline),
         FinishUnary(reactor, response), CancellationPtr());
  return reactor;
}

// A unary call answered with `status` (OK or not) at once.
grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                    const absl::Status& status);

// Calls ended with `status` before any message: refused.
template <typename Request, typename Response>
grpc::ServerBidiReactor<Request, Response>* RefuseStream(
    const absl::Status& status) {
  class Refused final : public grpc::ServerBidiReactor<Request, Response> {
   public:
    explicit Refused(const absl::Status& status) {
      this->Finish(ToGrpcStatus(status));
    }
    void OnDone() override { delete this; }
  };
  return new Refused(status);
}

template <typename Response>
grpc::ServerWriteReactor<Response>* RefuseWrites(const absl::Status& status) {
  class Refused final : public grpc::ServerWriteReactor<Response> {
   public:
    explicit Refused(const absl::Status& status) {
      this->Finish(ToGrpcStatus(status));
    }
    void OnDone() override { delete this; }
  };
  return new Refused(status);
}

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_GRPC_UTIL_H_
