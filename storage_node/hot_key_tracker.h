// What a node's clients ask for most (hot keys: docs/architecture.md): the
// reads and writes this node coordinates, counted per key in bounded
// sketches (common/top_keys.h) and per partition exactly, and turned into
// rates once per heartbeat. Thread-safe.
#ifndef QUORUMKV_STORAGE_NODE_HOT_KEY_TRACKER_H_
#define QUORUMKV_STORAGE_NODE_HOT_KEY_TRACKER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/top_keys.h"
#include "proto/master.pb.h"

namespace quorumkv {

class HotKeyTracker {
 public:
  static constexpr size_t kSketchCounters = 256;
  static constexpr size_t kReported = 10;

  HotKeyTracker();

  // One request coordinated here.
  void Count(uint32_t partition, absl::string_view key, bool write);

  // Rates since the previous call (a new window starts): the hottest keys,
  // by reads and writes together, and each partition's.
  struct Rates {
    std::vector<HotKey> keys;
    absl::flat_hash_map<uint32_t, std::pair<double, double>> partitions;
  };
  Rates Take();

 private:
  absl::Mutex mu_;
  // Keys as partition (4 bytes) + key, so each carries its partition.
  TopKeys reads_ ABSL_GUARDED_BY(mu_);
  TopKeys writes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint32_t, std::pair<uint64_t, uint64_t>> partitions_
      ABSL_GUARDED_BY(mu_);
  absl::Time since_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_HOT_KEY_TRACKER_H_
