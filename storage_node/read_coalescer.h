// Concurrent quorum reads of one key at a coordinator share rounds to the
// replicas (hot keys: docs/architecture.md, "Hot keys"). A read of a key
// with no round in flight starts one at once; reads that arrive while a
// round is in flight wait, and share the one round started for them all
// when it ends. So a read only ever shares a round sent after it arrived:
// no read returns a value older than a write acknowledged before it began,
// the promise of a quorum read alone. Under load a key costs at most one
// round in flight plus one waiting, however many reads ask for it.
//
// Thread-safe; `done` runs on the thread that completes the round.
#ifndef QUORUMKV_STORAGE_NODE_READ_COALESCER_H_
#define QUORUMKV_STORAGE_NODE_READ_COALESCER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/replica.pb.h"

namespace quorumkv {

class ReadCoalescer {
 public:
  using ReadDone = std::function<void(absl::StatusOr<VersionedValue>)>;
  // Starts one round with `deadline`; calls its argument once with the
  // round's result.
  using StartRound = std::function<void(absl::Time deadline, ReadDone done)>;

  // Reads of the same `group` (partition, key and R) share rounds. A round
  // for waiting reads runs until the earliest of their deadlines and is
  // started by the first of them's `start`.
  void Read(const std::string& group, absl::Time deadline, ReadDone done,
            StartRound start);

  // Reads answered by a round they shared with others, since start.
  uint64_t shared_reads() const { return shared_reads_.load(); }
  // Rounds started, since start.
  uint64_t rounds() const { return rounds_.load(); }

 private:
  struct Waiting {
    std::vector<ReadDone> reads;
    absl::Time deadline = absl::InfiniteFuture();
    StartRound start;
  };

  // Runs a round for `reads`; when it ends, answers them and starts the
  // next round of the group, if reads are waiting.
  void Run(const std::string& group, std::vector<ReadDone> reads,
           absl::Time deadline, StartRound start);
  void Finish(const std::string& group, std::vector<ReadDone> reads,
              absl::StatusOr<VersionedValue> result);

  // Groups spread over shards, so that reads of different keys seldom wait
  // on one lock.
  struct Shard {
    absl::Mutex mu;
    // A group is present while a round of it is in flight; its entry
    // holds the reads waiting for the next round.
    absl::flat_hash_map<std::string, Waiting> groups ABSL_GUARDED_BY(mu);
  };
  static constexpr size_t kShards = 16;
  Shard& ShardOf(const std::string& group) {
    return shards_[std::hash<std::string>()(group) % kShards];
  }
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> shared_reads_{0};
  std::atomic<uint64_t> rounds_{0};
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_READ_COALESCER_H_
