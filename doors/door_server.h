// A front door's socket: a TCP listener (mutual TLS with --tls_dir) on a
// libevent loop of its own thread, which gives each accepted connection a
// protocol session (doors/door_connection.h). The protocols themselves
// live beside it (doors/resp/, doors/memcached/).
//
// Thread-safe: Stop() may be called from any thread, once or more.
#ifndef QUORUMKV_DOORS_DOOR_SERVER_H_
#define QUORUMKV_DOORS_DOOR_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/tls.h"
#include "doors/door_connection.h"
#include "doors/door_metrics.h"

struct event_base;
struct evconnlistener;
struct ssl_ctx_st;
struct sockaddr;

namespace quorumkv {

struct DoorServerOptions {
  // "redis" or "memcached": logs and messages.
  std::string name;
  // host:port; port 0 picks a free one (tests).
  std::string listen;
  // Mutual TLS with this identity and CA; null: plaintext.
  std::shared_ptr<const TlsConfig> tls;
  // Counts open connections; may be null.
  DoorMetrics* metrics = nullptr;
  // A session for each new connection; called on the loop thread.
  std::function<std::unique_ptr<DoorSession>()> new_session;
};

class DoorServer {
 public:
  // Binds and starts serving; INVALID_ARGUMENT or UNAVAILABLE naming the
  // flag's address when it cannot.
  static absl::StatusOr<std::unique_ptr<DoorServer>> Start(
      DoorServerOptions options);
  ~DoorServer();  // Stop()s.

  // Stops accepting, closes every connection and joins the loop thread.
  void Stop();
  // The bound port.
  int port() const { return port_; }
  // Open connections now (tests, metrics); a snapshot.
  int connections() const;

 private:
  explicit DoorServer(DoorServerOptions options);
  static void OnAccept(evconnlistener* listener, int fd, ::sockaddr* addr,
                       int socklen, void* self);
  void Run();

  const DoorServerOptions options_;
  event_base* base_ = nullptr;
  evconnlistener* listener_ = nullptr;
  ssl_ctx_st* ssl_ = nullptr;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> open_{0};
  // Loop thread only (and the destructor once the loop is joined).
  absl::flat_hash_map<DoorConnection*, std::unique_ptr<DoorConnection>>
      connections_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_DOOR_SERVER_H_
