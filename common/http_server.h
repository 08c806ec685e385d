// A small HTTP server for the daemons' operator endpoints (/metrics,
// /healthz, the master's status page): civetweb underneath, GET only, every
// response built in memory by a handler.
//
// Thread safety: handlers run on the server's own threads (never on a gRPC
// thread), several at once; they must be thread-safe and must not block on
// the network. Handle() must be called before Start().
#ifndef QUORUMKV_COMMON_HTTP_SERVER_H_
#define QUORUMKV_COMMON_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

struct mg_context;
struct mg_connection;

namespace quorumkv {

struct HttpResponse {
  int code = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse()>;

// A path served by a handler; `path` matches exactly ("/" is the root page
// only; anything unregistered is 404).
struct HttpRoute {
  std::string path;
  HttpHandler handler;
};

class HttpServer {
 public:
  // Listens on `listen` (HOST:PORT; port 0 picks one) and serves `routes`.
  // UNAVAILABLE naming the address when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const std::string& listen, std::vector<HttpRoute> routes);
  ~HttpServer();  // Stop()s.

  // Stops accepting and waits for the handlers running now. Idempotent.
  void Stop();

  // HOST:PORT with the bound port.
  const std::string& address() const { return address_; }
  int port() const { return port_; }

 private:
  HttpServer() = default;
  static int Serve(mg_connection* connection, void* server);

  std::vector<HttpRoute> routes_;
  mg_context* context_ = nullptr;
  std::string address_;
  int port_ = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_HTTP_SERVER_H_
