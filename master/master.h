// The master: the server object that owns membership, the directory and its
// store, and serves MasterService and the recursive KvService on one port.
// Used by kv_master's main and, in process, by tests.
#ifndef QUORUMKV_MASTER_MASTER_H_
#define QUORUMKV_MASTER_MASTER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/directory.h"
#include "master/master_options.h"
#include "master/move_tracker.h"

namespace quorumkv {

class Master {
 public:
  // Opens the data dir, loads the directory and starts serving.
  static absl::StatusOr<std::unique_ptr<Master>> Start(
      const MasterOptions& options);
  ~Master();  // Shutdown()s.

  // Blocks until Shutdown(); returns OK.
  absl::Status Wait();
  // Stops serving and waits for relayed calls. Idempotent; thread-safe.
  void Shutdown();

  // host:port with the bound port.
  const std::string& address() const;
  int port() const;
  // The bound --http_listen port; 0 without it.
  int http_port() const;
  DirectoryPtr directory() const;
  // Recursive requests being relayed now.
  int relays_in_flight() const;
  // Moves started, completed and cancelled since start (tests, benchmarks).
  MoveTracker::Counters move_counters() const;

 private:
  struct Impl;
  explicit Master(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_MASTER_H_
