// Runs callbacks at given times on one thread of its own: the retry
// backoff of the SDK and of the master's relay, so that no gRPC thread
// sleeps. Thread-safe.
#ifndef QUORUMKV_COMMON_TIMER_QUEUE_H_
#define QUORUMKV_COMMON_TIMER_QUEUE_H_

#include <functional>
#include <map>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quorumkv {

class TimerQueue {
 public:
  TimerQueue();
  // Runs every callback still queued at once, then joins the thread.
  ~TimerQueue();

  // Runs `callback` at `when` (at once if it is past). Callbacks must not
  // block.
  void RunAt(absl::Time when, std::function<void()> callback);

 private:
  void Loop();

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::multimap<absl::Time, std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // Last: started once the rest is ready.
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_TIMER_QUEUE_H_
