// Process-level helpers shared by the daemons' thin mains.
#ifndef QUORUMKV_COMMON_PROCESS_H_
#define QUORUMKV_COMMON_PROCESS_H_

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_log.h"

namespace quorumkv {

// Parses a program's flags (docs/operations.md): `--help` prints `usage` and the
// flags defined in `main_file` (its main, by __FILE__) and exits 0;
// `--version` prints "NAME VERSION (BUILD TYPE)" and exits 0; an unknown
// flag, a bad value or a positional argument prints one line naming it and
// exits 2. Applies `--log_level`.
void ParseProgramFlags(int argc, char** argv, const char* name,
                       const char* usage, const char* main_file);
// ParseProgramFlags(), then logs the effective configuration once.
void ParseDaemonFlags(int argc, char** argv, const char* name,
                      const char* usage, const char* main_file);

// Blocks SIGINT and SIGTERM in every thread started after this call and
// runs `on_signal` once, on a thread of its own, when one arrives. Call
// before starting any other thread.
void OnTerminationSignal(std::function<void()> on_signal);

// Ends the process with `code`, flushing standard output and error but
// running no exit handlers or static destructors. Every object of ours must
// be gone by then. Why: gRPC 1.51 can still be releasing a finished
// callback call on its own threads after the last object of ours is
// destroyed, and its global completion queue, torn down by exit handlers
// under it, aborts the process (seen: kvcli exiting 134 instead of 3).
[[noreturn]] void ExitProcess(int code);

// Logs "NAME EVENT" at INFO; RunDaemon's start and shutdown.
void LogDaemonEvent(const char* name, const char* event);

// Runs a daemon (a Master or StorageNode: Start() returning
// StatusOr<unique_ptr>, Wait() returning Status, idempotent Shutdown())
// until SIGINT or SIGTERM, or until it stops by itself. Returns the process
// exit code: 0 after a signal, 2 when `start` rejects the options, 1 on any
// other failure, each failure printed as one line "NAME: message". gRPC's
// own log lines go through ours meanwhile (common/grpc_log.h).
template <typename Daemon>
int RunDaemon(const char* name,
              const std::function<absl::StatusOr<std::unique_ptr<Daemon>>()>&
                  start) {
  // gRPC's own errors, refused TLS handshakes among them, in our log's form.
  LogGrpcAsOurs();
  absl::Mutex mu;
  Daemon* daemon = nullptr;
  bool signalled = false;
  OnTerminationSignal([&] {
    absl::MutexLock lock(&mu);
    signalled = true;
    if (daemon != nullptr) daemon->Shutdown();
  });
  absl::StatusOr<std::unique_ptr<Daemon>> started = start();
  LogDaemonEvent(name, started.ok() ? "started" : "failed to start");
  if (!started.ok()) {
    std::fprintf(stderr, "%s: %s\n", name,
                 std::string(started.status().message()).c_str());
    return absl::IsInvalidArgument(started.status()) ? 2 : 1;
  }
  {
    absl::MutexLock lock(&mu);
    daemon = started->get();
    if (signalled) daemon->Shutdown();
  }
  const absl::Status status = daemon->Wait();
  {
    absl::MutexLock lock(&mu);
    LogDaemonEvent(name, signalled ? "shutting down (signal)"
                                   : "shutting down (stopped by itself)");
    daemon->Shutdown();
    daemon = nullptr;
  }
  LogDaemonEvent(name, "stopped");
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", name,
                 std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_PROCESS_H_
