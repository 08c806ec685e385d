// A small HTTP server for the daemons' operator endpoints (/metrics,
// /healthz, the master's status page): libmicrohttpd underneath, GET only,
// every response built in memory by a handler. HTTPS with the daemon's
// certificate when it has --tls_dir; a data token (`Authorization: Bearer
// TOKEN`) on every route but the open ones when it has --auth_token_file.
//
// Thread safety: handlers run on the server's own threads (never on a gRPC
// thread), several at once; they must be thread-safe and must not block on
// the network. Routes are fixed at Start().
#ifndef QUORUMKV_COMMON_HTTP_SERVER_H_
#define QUORUMKV_COMMON_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth_tokens.h"
#include "common/tls.h"

struct MHD_Daemon;
struct MHD_Connection;

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
  // Served without a token: what holds no data of the cluster (the health
  // check, the status page's shell).
  bool open = false;
};

// How the server secures what it serves; both null: plain HTTP, no tokens.
struct HttpSecurity {
  const TlsConfig* tls = nullptr;     // HTTPS with its certificate
  const TokenSet* tokens = nullptr;   // a data token on routes not open
};

class HttpServer {
 public:
  // Listens on `listen` (HOST:PORT; port 0 picks one) and serves `routes`,
  // secured as `security` says (which must outlive the server).
  // UNAVAILABLE naming the address when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const std::string& listen, std::vector<HttpRoute> routes,
      HttpSecurity security = {});
  ~HttpServer();  // Stop()s.

  // Stops accepting, closes the open connections and waits for the
  // handlers running now. Idempotent.
  void Stop();

  // What one request gets, from its method, path and Authorization header
  // (null when absent): what the server's threads send. Thread-safe.
  HttpResponse Answer(const std::string& method, const std::string& path,
                      const char* authorization) const;

  // HOST:PORT with the bound port.
  const std::string& address() const { return address_; }
  int port() const { return port_; }

 private:
  HttpServer() = default;
  std::vector<HttpRoute> routes_;
  HttpSecurity security_;
  MHD_Daemon* daemon_ = nullptr;
  std::string address_;
  int port_ = 0;
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_HTTP_SERVER_H_
