#include "storage_node/hot_key_tracker.h"

#include <algorithm>
#include <cstring>

#include "absl/time/clock.h"

namespace quorumkv {
namespace {

std::string Tagged(uint32_t partition, absl::string_view key) {
  std::string tagged(4, '\0');
  std::memcpy(tagged.data(), &partition, 4);
  tagged.append(key.data(), key.size());
  return tagged;
}

uint32_t PartitionOfTagged(absl::string_view tagged) {
  uint32_t partition = 0;
  std::memcpy(&partition, tagged.data(), 4);
  return partition;
}

}  // namespace

HotKeyTracker::HotKeyTracker()
    : reads_(kSketchCounters), writes_(kSketchCounters), since_(absl::Now()) {}

void HotKeyTracker::Count(uint32_t partition, absl::string_view key, bool write) {
  const std::string tagged = Tagged(partition, key);
  absl::MutexLock lock(&mu_);
  (write ? writes_ : reads_).Add(tagged);
  auto& counts = partitions_[partition];
  ++(write ? counts.second : counts.first);
}

HotKeyTracker::Rates HotKeyTracker::Take() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  const double seconds = std::max(1e-3, absl::ToDoubleSeconds(now - since_));
  since_ = now;
  Rates rates;
  // Reads and writes of a key together decide how hot it is.
  absl::flat_hash_map<std::string, HotKey> keys;
  for (auto [sketch, write] : {std::pair{&reads_, false}, std::pair{&writes_, true}}) {
    for (const TopKeys::Entry& e : sketch->Top(kReported)) {
      HotKey& hot = keys[e.key];
      hot.set_key(e.key.substr(4));
      hot.set_partition(PartitionOfTagged(e.key));
      const double rate = e.count / seconds;
      if (write) {
        hot.set_writes_per_sec(rate);
      } else {
        hot.set_reads_per_sec(rate);
      }
    }
  }
  for (auto& [tagged, hot] : keys) rates.keys.push_back(std::move(hot));
  std::sort(rates.keys.begin(), rates.keys.end(), [](const HotKey& a, const HotKey& b) {
    return a.reads_per_sec() + a.writes_per_sec() > b.reads_per_sec() + b.writes_per_sec();
  });
  if (rates.keys.size() > kReported) rates.keys.resize(kReported);
  for (const auto& [partition, counts] : partitions_) {
    rates.partitions[partition] = {counts.first / seconds, counts.second / seconds};
  }
  reads_.Clear();
  writes_.Clear();
  partitions_.clear();
  return rates;
}

}  // namespace quorumkv
