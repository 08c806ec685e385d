#include "common/periodic_task.h"

#include <utility>

namespace quorumkv {

PeriodicTask::PeriodicTask(std::function<absl::Duration()> run)
    : run_(std::move(run)) {}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Start() { thread_ = std::thread([this] { Loop(); }); }

void PeriodicTask::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void PeriodicTask::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void PeriodicTask::Loop() {
  absl::Duration delay = absl::ZeroDuration();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || woken_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&ready), delay);
      if (stopping_) return;
      woken_ = false;
    }
    delay = run_();
  }
}

}  // namespace quorumkv
