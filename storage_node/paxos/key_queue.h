// Runs a node's conditional writes of one key one after another. Two
// rounds of one key from the same coordinator only preempt each other: the
// later ballot overtakes the earlier one after its proposal was sent, and
// the earlier one's fate becomes UNKNOWN. Queued here, each round runs
// alone; clients send a key's conditional writes to the first replica of
// its partition, so concurrent increments of a key from many clients meet
// in one queue rather than in Paxos. Rounds of different keys, and rounds
// from other coordinators (after a failover), still run side by side:
// Paxos keeps them correct.
//
// Thread-safe; `start` runs on the caller's thread or on the thread that
// finished the round before it.
#ifndef QUORUMKV_STORAGE_NODE_PAXOS_KEY_QUEUE_H_
#define QUORUMKV_STORAGE_NODE_PAXOS_KEY_QUEUE_H_

#include <deque>
#include <functional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace quorumkv {

class KeyQueue {
 public:
  // Call once when the round ends.
  using Finished = std::function<void()>;

  // Runs `start` now when no round of `key` is running, otherwise once the
  // rounds queued before it have finished.
  void Run(const std::string& key, std::function<void(Finished)> start) {
    {
      absl::MutexLock lock(&mu_);
      auto [queue, fresh] = waiting_.try_emplace(key);
      if (!fresh) {
        queue->second.push_back(std::move(start));
        return;
      }
    }
    Start(key, std::move(start));
  }

  // Keys with a round running (tests, metrics).
  size_t busy_keys() const {
    absl::MutexLock lock(&mu_);
    return waiting_.size();
  }

 private:
  void Start(const std::string& key, std::function<void(Finished)> start) {
    start([this, key] { Next(key); });
  }

  void Next(const std::string& key) {
    std::function<void(Finished)> next;
    {
      absl::MutexLock lock(&mu_);
      auto queue = waiting_.find(key);
      if (queue->second.empty()) {
        waiting_.erase(queue);
        return;
      }
      next = std::move(queue->second.front());
      queue->second.pop_front();
    }
    Start(key, std::move(next));
  }

  mutable absl::Mutex mu_;
  // A key is present while a round of it runs; its deque holds the rounds
  // waiting behind that one.
  absl::flat_hash_map<std::string, std::deque<std::function<void(Finished)>>>
      waiting_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_PAXOS_KEY_QUEUE_H_
