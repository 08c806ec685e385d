#include "common/grpc_util.h"

#include <cstdlib>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/call_auth.h"
#include "common/limits.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/support/channel_arguments.h"

namespace quorumkv {

std::string PlainConnectError(absl::string_view message) {
  // What gRPC says, after "failed to connect to all addresses; last
  // error:", and what it means to a user.
  struct Plain {
    absl::string_view grpc;
    absl::string_view plain;
  };
  static constexpr Plain kPlain[] = {
      {"Connection refused",
       "nothing answers there (connection refused): is the cluster up? "
       "(deploy/local-cluster.sh status)"},
      {"Failed parsing HTTP/2",
       "that is not a gRPC port (an HTTP server answered): the master serves "
       "gRPC on --listen (the local cluster: 7000) and its status page on "
       "--http_listen (7080)"},
      {"Trying to connect an http1.x server",
       "that is not a gRPC port (an HTTP server answered): the master serves "
       "gRPC on --listen (the local cluster: 7000) and its status page on "
       "--http_listen (7080)"},
      {"DNS resolution failed",
       "the host name does not resolve: check the address"},
  };
  for (const Plain& p : kPlain) {
    if (!absl::StrContains(message, p.grpc)) continue;
    // Keep what names the server ("master 127.0.0.1:1: "), drop gRPC's
    // wording.
    size_t cut = message.find("failed to connect to all addresses");
    if (cut == absl::string_view::npos) cut = message.find(p.grpc);
    if (absl::StartsWith(p.grpc, "DNS")) cut = message.find(p.grpc);
    return absl::StrCat(message.substr(0, cut), p.plain);
  }
  return std::string(message);
}
namespace {

// gRPC 1.51 drives a connection that no call waits on (a reconnect after a
// call failed fast) only from its backup poller, every 5 s by default. A
// TLS handshake takes three such steps, so a channel to a restarted peer
// came back after 15 s (seen: nodes re-registering with a restarted
// master, clients polling a starting one). 100 ms costs one wake-up a
// tenth of a second. Read once, when gRPC initialises: set before the
// first channel or server; a value the user set wins.
void PollBackgroundConnectsOften() {
  static std::once_flag once;
  std::call_once(once, [] {
    setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", /*overwrite=*/0);
  });
}

}  // namespace

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const ChannelSecurity& security) {
  PollBackgroundConnectsOften();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // Reconnect quickly after a peer restarts: tests and operators restart
  // nodes, and the default backoff (up to 2 minutes) hides a node that is
  // back.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      MakeChannelCredentials(security.tls.get());
  if (security.token.empty()) {
    return grpc::CreateCustomChannel(address, credentials, args);
  }
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      address, credentials, args, BearerTokenInterceptors(security.token));
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartServer(
    const std::string& listen, const std::vector<grpc::Service*>& services,
    std::string* address, const TlsConfig* tls) {
  PollBackgroundConnectsOften();
  // Every server answers the standard health check (grpc.health.v1): load
  // balancers, probes and kvbench's ping baseline use it.
  grpc::EnableDefaultHealthCheckService(true);
  // And server reflection, so that grpcurl-style tools list and call the
  // services without the .proto files.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  // gRPC binds with SO_REUSEPORT by default, so a second daemon started on
  // a taken address would bind it too and share its connections.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int port = 0;
  builder.AddListeningPort(listen, MakeServerCredentials(tls), &port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", listen, " (address in use or not local?)"));
  }
  *address = absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port);
  return server;
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                    const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

void SetTimeout(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

absl::Time DeadlineOf(const grpc::ServerContextBase& context,
                      absl::Duration fallback) {
  const auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) {
    return absl::Now() + fallback;
  }
  return absl::FromChrono(deadline);
}

}  // namespace quorumkv
