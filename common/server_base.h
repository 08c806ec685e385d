// What the master and a storage node share as servers: their gRPC server
// (with the health service and reflection), the HTTP endpoint
// (--http_listen: /metrics, /healthz and any pages of the daemon), the
// metrics registry, and how the daemon stops and reports a failure.
// Signals are common/process.h's RunDaemon; this is what it stops.
//
// Typical use, in a daemon's Start():
//   base->SetSecurity(&security);         // optional: TLS, tokens
//   base->SetHealthCheck(...);            // optional
//   base->metrics().AddValue(...);        // the daemon's own figures
//   RETURN_IF_ERROR(base->Serve(listen, services, http_listen, pages));
// and in its Stop(): base->Stop(before, after).
//
// Thread safety: set-up calls (SetSecurity, SetHealthCheck, metrics().Add*,
// Serve) come
// from one thread before anything else; then every method is thread-safe.
#ifndef QUORUMKV_COMMON_SERVER_BASE_H_
#define QUORUMKV_COMMON_SERVER_BASE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/daemon_security.h"
#include "common/http_server.h"
#include "common/metrics.h"
#include "grpcpp/server.h"

namespace quorumkv {

class ServerBase {
 public:
  // `name` ("master", "storage node") prefixes errors.
  explicit ServerBase(std::string name);
  ~ServerBase();  // Stops the servers if Stop() did not.

  Metrics& metrics() { return metrics_; }

  // With `security` (which must outlive the servers) gRPC is mutual TLS and
  // HTTP is HTTPS when it has TLS, and HTTP routes but /healthz (and those
  // marked open) need a data token when it has tokens. Default: neither.
  // The gRPC services check their own calls' tokens (common/call_auth.h).
  void SetSecurity(const DaemonSecurity* security);

  // /healthz answers 200 while `check` is OK (and the daemon is not
  // stopping), else 503 with its message. Default: always OK.
  void SetHealthCheck(std::function<absl::Status()> check);

  // Serves `services` (which must outlive the server) over gRPC on `listen`
  // and, when `http_listen` is not empty, HTTP there: /metrics, /healthz and
  // `pages`. Logs a warning for an address others can reach without TLS.
  // On failure nothing is left running.
  absl::Status Serve(const std::string& listen,
                     const std::vector<grpc::Service*>& services,
                     const std::string& http_listen,
                     std::vector<HttpRoute> pages = {});

  // HOST:PORT with the bound port, and the port; after Serve().
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  // Empty / 0 without --http_listen.
  std::string http_address() const;
  int http_port() const;

  // Stops the daemon, once: /healthz and the gRPC health service turn to
  // NOT_SERVING, `before` runs (stop background work, end long-lived
  // streams), the gRPC server shuts down (calls still running get a second)
  // and HTTP with it, then `after` runs (wait for work in flight). Callers
  // that come while another stops return once it has finished.
  void Stop(const std::function<void()>& before,
            const std::function<void()>& after);

  // Records a failure that ends the daemon: Wait() returns it, and the
  // owner then calls Stop(). The first failure is kept.
  void Fail(absl::Status status);

  // Ends the daemon by its own choice (it has nothing more to do): Wait()
  // returns OK, and the owner then calls Stop().
  void Finish();

  // Blocks until Stop() has finished, or Fail() or Finish() is called;
  // returns the failure, or OK.
  absl::Status Wait();

 private:
  HttpResponse Health() const;

  const std::string name_;
  Metrics metrics_;
  const DaemonSecurity* security_ = nullptr;
  std::function<absl::Status()> health_check_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<HttpServer> http_;
  std::string address_;
  int port_ = 0;
  std::atomic<bool> serving_{false};

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;  // Finish()
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_SERVER_BASE_H_
