#include "doors/door_server.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <mutex>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/address.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace quorumkv {
namespace {

// libevent's locks, so that a Reply may wake a loop from a gRPC thread.
void UseThreads() {
  static std::once_flag once;
  std::call_once(once, [] { evthread_use_pthreads(); });
}

std::string PeerName(const sockaddr* addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
  } else if (addr->sa_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(addr);
    inet_ntop(AF_INET6, &in->sin6_addr, host, sizeof(host));
    port = ntohs(in->sin6_port);
  }
  return absl::StrCat(host, ":", port);
}

}  // namespace

DoorServer::DoorServer(DoorServerOptions options)
    : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<DoorServer>> DoorServer::Start(
    DoorServerOptions options) {
  const std::string flag = absl::StrCat("--", options.name, "_listen");
  RETURN_IF_ERROR(ValidateAddress(flag, options.listen,
                                  /*allow_port_zero=*/true));
  UseThreads();
  std::unique_ptr<DoorServer> server(new DoorServer(std::move(options)));
  const DoorServerOptions& o = server->options_;
  if (o.tls != nullptr) {
    server->ssl_ = SSL_CTX_new(TLS_server_method());
    if (server->ssl_ == nullptr) {
      return absl::InternalError("OpenSSL could not make a TLS context");
    }
    RETURN_IF_ERROR(UseTlsIdentity(*o.tls, server->ssl_));
    RETURN_IF_ERROR(RequireClientCertificates(*o.tls, server->ssl_));
  }
  const size_t colon = o.listen.rfind(':');
  std::string host = o.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const std::string port = o.listen.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, "=", o.listen, ": cannot resolve ", host));
  }
  server->base_ = event_base_new();
  server->listener_ = evconnlistener_new_bind(
      server->base_, &OnAccept, server.get(),
      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 128,
      found->ai_addr, static_cast<int>(found->ai_addrlen));
  freeaddrinfo(found);
  if (server->listener_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        flag, "=", o.listen, ": cannot listen there (",
        evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()), ")"));
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(evconnlistener_get_fd(server->listener_),
              reinterpret_cast<sockaddr*>(&bound), &length);
  server->port_ = ntohs(bound.ss_family == AF_INET6
                            ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  server->thread_ = std::thread([raw = server.get()] { raw->Run(); });
  QKV_LOG(INFO) << o.name << " door serving on port " << server->port_
                << (o.tls != nullptr ? " (TLS)" : "");
  return server;
}

DoorServer::~DoorServer() {
  Stop();
  connections_.clear();
  if (listener_ != nullptr) evconnlistener_free(listener_);
  if (base_ != nullptr) event_base_free(base_);
  if (ssl_ != nullptr) SSL_CTX_free(ssl_);
}

void DoorServer::Run() {
  event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
}

void DoorServer::Stop() {
  if (stopped_.exchange(true)) return;
  if (base_ != nullptr) event_base_loopbreak(base_);
  if (thread_.joinable()) thread_.join();
}

int DoorServer::connections() const { return open_.load(); }

void DoorServer::OnAccept(evconnlistener*, int fd, sockaddr* addr, int,
                          void* self) {
  auto* server = static_cast<DoorServer*>(self);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  bufferevent* bev =
      server->ssl_ != nullptr
          ? bufferevent_openssl_socket_new(server->base_, fd,
                                           SSL_new(server->ssl_),
                                           BUFFEREVENT_SSL_ACCEPTING,
                                           BEV_OPT_CLOSE_ON_FREE)
          : bufferevent_socket_new(server->base_, fd, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) {
    evutil_closesocket(fd);
    return;
  }
  auto connection = std::make_unique<DoorConnection>(
      bev, server->options_.new_session(), PeerName(addr),
      [server](DoorConnection* closed) {
        server->connections_.erase(closed);
        server->open_.fetch_sub(1);
        if (server->options_.metrics != nullptr) {
          server->options_.metrics->Connections(server->options_.name, -1);
        }
      });
  DoorConnection* raw = connection.get();
  server->connections_.emplace(raw, std::move(connection));
  server->open_.fetch_add(1);
  if (server->options_.metrics != nullptr) {
    server->options_.metrics->Connections(server->options_.name, 1);
  }
  raw->Start();
}

}  // namespace quorumkv
