// Cancellation of the work done for a call: the server side of a stream
// raises it when its client cancels (or goes away), and whoever made calls
// on the call's behalf (the master's relay) registers what to cancel.
// Thread-safe.
#ifndef QUORUMKV_COMMON_CANCELLATION_H_
#define QUORUMKV_COMMON_CANCELLATION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace quorumkv {

class Cancellation {
 public:
  // Runs every registered callback (once, on the caller's thread); later
  // registrations run at once.
  void Cancel() {
    absl::flat_hash_map<uint64_t, std::function<void()>> callbacks;
    {
      absl::MutexLock lock(&mu_);
      if (cancelled_) return;
      cancelled_ = true;
      callbacks.swap(callbacks_);
    }
    for (auto& [id, callback] : callbacks) callback();
  }

  bool cancelled() const {
    absl::MutexLock lock(&mu_);
    return cancelled_;
  }

  // Runs `callback` on Cancel() unless Unregister()ed first; returns the
  // id to unregister it with (0 when it ran at once).
  uint64_t Register(std::function<void()> callback) {
    {
      absl::MutexLock lock(&mu_);
      if (!cancelled_) {
        const uint64_t id = ++next_id_;
        callbacks_.emplace(id, std::move(callback));
        return id;
      }
    }
    callback();
    return 0;
  }

  void Unregister(uint64_t id) {
    absl::MutexLock lock(&mu_);
    callbacks_.erase(id);
  }

 private:
  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, std::function<void()>> callbacks_
      ABSL_GUARDED_BY(mu_);
};

using CancellationPtr = std::shared_ptr<Cancellation>;

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_CANCELLATION_H_
