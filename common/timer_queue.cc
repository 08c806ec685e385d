#include "common/timer_queue.h"

#include <utility>

#include "absl/time/clock.h"

namespace quorumkv {

TimerQueue::TimerQueue() : thread_([this] { Loop(); }) {}

TimerQueue::~TimerQueue() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void TimerQueue::RunAt(absl::Time when, std::function<void()> callback) {
  absl::MutexLock lock(&mu_);
  queue_.emplace(when, std::move(callback));
}

void TimerQueue::Loop() {
  while (true) {
    std::function<void()> due;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time next =
          queue_.empty() ? absl::InfiniteFuture() : queue_.begin()->first;
      auto wake = [this, next]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ ||
               (!queue_.empty() && queue_.begin()->first < next);
      };
      mu_.AwaitWithDeadline(absl::Condition(&wake), next);
      if (queue_.empty()) {
        if (stopping_) return;
        continue;
      }
      if (!stopping_ && queue_.begin()->first > absl::Now()) continue;
      due = std::move(queue_.begin()->second);
      queue_.erase(queue_.begin());
    }
    due();
  }
}

}  // namespace quorumkv
