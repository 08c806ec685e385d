#include "common/http_server.h"

#include <civetweb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace quorumkv {
namespace {

// Two threads serve scrapes and status page refreshes; civetweb's default
// (50) would be idle threads on every daemon.
constexpr const char* kThreads = "2";

// Connects to the server at `address` (HOST:PORT; a wildcard or name
// host: 127.0.0.1) and closes at once.
void WakeAcceptLoop(const std::string& address) {
  const size_t colon = address.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(std::atoi(address.c_str() + colon + 1));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr) != 1 ||
      addr.sin_addr.s_addr == htonl(INADDR_ANY)) {
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  close(fd);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const std::string& listen, std::vector<HttpRoute> routes) {
  static std::once_flag init;
  std::call_once(init, [] { mg_init_library(0); });
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->routes_ = std::move(routes);
  const char* options[] = {"listening_ports", listen.c_str(),
                           "num_threads", kThreads,
                           "request_timeout_ms", "10000",
                           nullptr};
  char error_text[256] = {0};
  unsigned error_code = 0;
  mg_error_data error{&error_code, error_text, sizeof error_text};
  mg_init_data init_data{nullptr, nullptr, options};
  server->context_ = mg_start2(&init_data, &error);
  if (server->context_ == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "cannot serve HTTP on ", listen, ": ", error_text,
        " (address in use or not local?)"));
  }
  mg_server_port port;
  if (mg_get_server_ports(server->context_, 1, &port) < 1) {
    return absl::InternalError(absl::StrCat("HTTP on ", listen, ": no port"));
  }
  server->port_ = port.port;
  server->address_ =
      absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port.port);
  // One handler for every path, dispatching by exact path (civetweb's own
  // matching is by prefix). Until it is set civetweb answers 404.
  mg_set_request_handler(server->context_, "/", &HttpServer::Serve,
                         server.get());
  return server;
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Stop() {
  if (context_ == nullptr) return;
  // civetweb's accept loop notices the stop only when its poll() returns,
  // after up to two seconds; a connection wakes it at once. The waker
  // connects until mg_stop() has returned (a few tries at most).
  std::atomic<bool> stopped{false};
  std::thread waker([this, &stopped] {
    for (int attempt = 0; attempt < 100 && !stopped.load(); ++attempt) {
      WakeAcceptLoop(address_);
      absl::SleepFor(absl::Milliseconds(20));
    }
  });
  mg_stop(context_);
  stopped = true;
  waker.join();
  context_ = nullptr;
}

int HttpServer::Serve(mg_connection* connection, void* server) {
  const mg_request_info* request = mg_get_request_info(connection);
  const HttpRoute* route = nullptr;
  for (const HttpRoute& r : static_cast<HttpServer*>(server)->routes_) {
    if (request->local_uri != nullptr && r.path == request->local_uri) {
      route = &r;
    }
  }
  if (route == nullptr) {
    mg_send_http_error(connection, 404, "%s", "not found\n");
    return 404;
  }
  if (std::string(request->request_method) != "GET" &&
      std::string(request->request_method) != "HEAD") {
    mg_send_http_error(connection, 405, "%s", "only GET is served\n");
    return 405;
  }
  const HttpResponse response = route->handler();
  mg_response_header_start(connection, response.code);
  mg_response_header_add(connection, "Content-Type",
                         response.content_type.c_str(), -1);
  mg_response_header_add(connection, "Content-Length",
                         std::to_string(response.body.size()).c_str(), -1);
  mg_response_header_add(connection, "Cache-Control", "no-store", -1);
  mg_response_header_send(connection);
  if (std::string(request->request_method) == "GET") {
    mg_write(connection, response.body.data(), response.body.size());
  }
  return response.code;
}

}  // namespace quorumkv
