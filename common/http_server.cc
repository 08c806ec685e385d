#include "common/http_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/logging.h"

namespace quorumkv {
namespace {

// Two threads serve scrapes and status page refreshes; they never block
// on a slow client (libmicrohttpd polls), and handlers answer from memory.
constexpr unsigned kThreads = 2;
constexpr unsigned kMaxConnections = 64;
// A client that sends nothing for this long is disconnected.
constexpr unsigned kIdleTimeoutSeconds = 10;

// libmicrohttpd's own messages (a refused TLS handshake, an unreadable
// request) in our log.
void LogLibraryMessage(void*, const char* format, va_list args) {
  char text[512];
  std::vsnprintf(text, sizeof text, format, args);
  const absl::string_view message = absl::StripTrailingAsciiWhitespace(text);
  if (absl::StrContains(message, "handshake")) {
    QKV_LOG(WARNING) << "HTTPS: refused a connection whose TLS handshake "
                        "failed (plain HTTP, or a client that does not "
                        "trust our certificate): "
                     << message;
    return;
  }
  QKV_LOG(WARNING) << "http: " << message;
}

// Resolves HOST:PORT (HOST may be a name, an IPv4 address or a bracketed
// IPv6 one) to the address to bind.
absl::Status Resolve(const std::string& listen, sockaddr_storage* address,
                     socklen_t* length) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", listen, "' is not HOST:PORT"));
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = listen.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int error = getaddrinfo(host.empty() ? nullptr : host.c_str(),
                                port.c_str(), &hints, &found);
  if (error != 0 || found == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot resolve ", listen, ": ", gai_strerror(error)));
  }
  std::memcpy(address, found->ai_addr, found->ai_addrlen);
  *length = found->ai_addrlen;
  freeaddrinfo(found);
  return absl::OkStatus();
}

MHD_Result Dispatch(void* server, MHD_Connection* connection, const char* url,
                    const char* method, const char*, const char*,
                    size_t* upload_size, void**) {
  // A body, if any, is ignored: only GET and HEAD are answered.
  *upload_size = 0;
  const char* authorization =
      MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Authorization");
  const HttpResponse answer = static_cast<const HttpServer*>(server)->Answer(
      method, url == nullptr ? "" : url, authorization);
  MHD_Response* response = MHD_create_response_from_buffer(
      answer.body.size(), const_cast<char*>(answer.body.data()),
      MHD_RESPMEM_MUST_COPY);
  if (response == nullptr) return MHD_NO;
  MHD_add_response_header(response, "Content-Type", answer.content_type.c_str());
  MHD_add_response_header(response, "Cache-Control", "no-store");
  if (answer.code == 401) {
    MHD_add_response_header(response, "WWW-Authenticate", "Bearer");
  }
  if (answer.code == 405) MHD_add_response_header(response, "Allow", "GET, HEAD");
  const MHD_Result queued = MHD_queue_response(connection, answer.code, response);
  MHD_destroy_response(response);
  return queued;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& listen, std::vector<HttpRoute> routes,
    HttpSecurity security) {
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->routes_ = std::move(routes);
  server->security_ = security;
  sockaddr_storage address{};
  socklen_t length = 0;
  if (absl::Status resolved = Resolve(listen, &address, &length);
      !resolved.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve HTTP on ", listen, ": ", resolved.message()));
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
  if (address.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
  if (security.tls != nullptr) flags |= MHD_USE_TLS;
  // The PEM strings must outlive the daemon: they are the TlsConfig's,
  // which the caller keeps.
  const char* key = security.tls == nullptr ? "" : security.tls->key.c_str();
  const char* cert = security.tls == nullptr ? "" : security.tls->cert.c_str();
  server->daemon_ = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &Dispatch, server.get(),
      MHD_OPTION_EXTERNAL_LOGGER, &LogLibraryMessage, nullptr,
      MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&address),
      MHD_OPTION_THREAD_POOL_SIZE, kThreads,
      MHD_OPTION_CONNECTION_LIMIT, kMaxConnections,
      MHD_OPTION_CONNECTION_TIMEOUT, kIdleTimeoutSeconds,
      // No MHD_OPTION_LISTENING_ADDRESS_REUSE: its "true" shares the port
      // with another listener (SO_REUSEPORT), its "false" drops
      // SO_REUSEADDR, so that a restarted daemon could not bind while the
      // old one's connections linger in TIME_WAIT. The default (SO_REUSEADDR
      // alone) refuses a port another process listens on, and only that.
      security.tls == nullptr ? MHD_OPTION_END : MHD_OPTION_HTTPS_MEM_KEY, key,
      MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve HTTP", security.tls == nullptr ? "" : "S", " on ", listen,
        " (address in use or not local?)"));
  }
  const MHD_DaemonInfo* info =
      MHD_get_daemon_info(server->daemon_, MHD_DAEMON_INFO_BIND_PORT);
  server->port_ = info == nullptr ? 0 : info->port;
  server->address_ =
      absl::StrCat(listen.substr(0, listen.rfind(':')), ":", server->port_);
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (daemon_ == nullptr) return;
  MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
}

HttpResponse HttpServer::Answer(const std::string& method,
                                const std::string& path,
                                const char* authorization) const {
  const HttpRoute* route = nullptr;
  for (const HttpRoute& r : routes_) {
    if (r.path == path) route = &r;
  }
  if (route == nullptr) return {404, "text/plain; charset=utf-8", "not found\n"};
  if (method != "GET" && method != "HEAD") {
    return {405, "text/plain; charset=utf-8", "only GET is served\n"};
  }
  if (!route->open && security_.tokens != nullptr) {
    const absl::Status allowed = security_.tokens->Check(
        BearerToken(authorization == nullptr ? "" : authorization), Role::kData);
    if (!allowed.ok()) {
      return {absl::IsPermissionDenied(allowed) ? 403 : 401,
              "text/plain; charset=utf-8", absl::StrCat(allowed.message(), "\n")};
    }
  }
  return route->handler();
}

}  // namespace quorumkv
