// Stores hints off the threads that produce them. A coordinator learns that
// a replica missed a write on a gRPC callback thread, which must not wait
// for a synced RocksDB write; it queues the hint here, and one thread of the
// writer stores whatever has queued with one synced write. A hint is
// best-effort (anti-entropy backs it up): one that cannot be queued (the
// queue is over its bound) is counted as dropped. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_HINT_WRITER_H_
#define QUORUMKV_STORAGE_NODE_HINT_WRITER_H_

#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "proto/replica.pb.h"
#include "storage_node/hints.h"

namespace quorumkv {

class HintWriter {
 public:
  // Bytes of hints waiting to be stored; beyond it new ones are dropped.
  static constexpr size_t kMaxQueuedBytes = 64 << 20;

  // `store` must outlive the writer.
  explicit HintWriter(HintStore* store);
  // Stores what is queued, then joins the thread.
  ~HintWriter();

  // Queues a hint that `target` must still apply `request`; never blocks on
  // the disk.
  void Add(const std::string& target, const ApplyRequest& request);
  // Blocks until everything queued before the call is stored (tests).
  void Flush();
  // Hints queued and not yet stored.
  size_t queued() const;

 private:
  void Loop();

  HintStore* const store_;
  mutable absl::Mutex mu_;
  std::vector<HintStore::NewHint> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Hints handed to the store so far; Flush() waits for its mark.
  uint64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // Last: started once the rest is ready.
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_HINT_WRITER_H_
