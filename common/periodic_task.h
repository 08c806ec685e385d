// A background thread that runs a function again and again: after the delay
// the function returns, or sooner when Wake() is called. Used for
// heartbeats and hint replay. Thread-safe.
#ifndef QUORUMKV_COMMON_PERIODIC_TASK_H_
#define QUORUMKV_COMMON_PERIODIC_TASK_H_

#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quorumkv {

class PeriodicTask {
 public:
  // `run` returns how long to wait before its next run. It runs first at
  // once.
  explicit PeriodicTask(std::function<absl::Duration()> run);
  ~PeriodicTask();  // Stop()s.

  void Start();
  // Runs the function now if it is waiting (or right after its current run).
  void Wake();
  // Waits for the current run to end; no run starts after. Idempotent.
  void Stop();

 private:
  void Loop();

  const std::function<absl::Duration()> run_;
  std::thread thread_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_PERIODIC_TASK_H_
