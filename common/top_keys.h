// The hottest keys of a stream in bounded memory: the space-saving sketch
// (Metwally, Agrawal, El Abbadi). It keeps `capacity` counters; a key not
// yet counted takes over the smallest counter when all are in use,
// inheriting its count as the most it may have been overcounted by. Every
// key seen more than total/capacity times is kept, and a kept key's count
// is at most `error` above its true count. Nodes count the reads and writes
// they coordinate with it and report the top keys in their heartbeats.
//
// Not thread-safe: the owner locks (or keeps one per thread and merges).
#ifndef QUORUMKV_COMMON_TOP_KEYS_H_
#define QUORUMKV_COMMON_TOP_KEYS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace quorumkv {

class TopKeys {
 public:
  struct Entry {
    std::string key;
    uint64_t count = 0;  // an upper bound of the key's true count
    uint64_t error = 0;  // count - error is a lower bound
  };

  // At least 1 counter.
  explicit TopKeys(size_t capacity);

  // Counts `weight` more occurrences of `key`.
  void Add(absl::string_view key, uint64_t weight = 1);
  // The `n` largest counts, largest first (equal counts by key; at the
  // cut, which of equal counts are kept is unspecified).
  std::vector<Entry> Top(size_t n) const;
  // Occurrences counted since the last Clear().
  uint64_t total() const { return total_; }
  size_t size() const { return counters_.size(); }
  // Forgets everything (a new measuring window).
  void Clear();

 private:
  struct Counter {
    uint64_t count = 0;
    uint64_t error = 0;
    std::multimap<uint64_t, std::string>::iterator by_count;
  };

  const size_t capacity_;
  uint64_t total_ = 0;
  absl::flat_hash_map<std::string, Counter> counters_;
  // Counts to keys, so that the smallest is found at once.
  std::multimap<uint64_t, std::string> by_count_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_TOP_KEYS_H_
