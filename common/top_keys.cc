#include "common/top_keys.h"

#include <algorithm>
#include <utility>

namespace quorumkv {

TopKeys::TopKeys(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

void TopKeys::Add(absl::string_view key, uint64_t weight) {
  if (weight == 0) return;
  total_ += weight;
  auto found = counters_.find(key);
  if (found != counters_.end()) {
    Counter& c = found->second;
    by_count_.erase(c.by_count);
    c.count += weight;
    c.by_count = by_count_.emplace(c.count, found->first);
    return;
  }
  Counter counter;
  if (counters_.size() >= capacity_) {
    // The smallest counter goes to the new key, which may have been seen
    // up to that many times while it was not counted.
    auto smallest = by_count_.begin();
    counter.error = smallest->first;
    counter.count = smallest->first;
    counters_.erase(smallest->second);
    by_count_.erase(smallest);
  }
  counter.count += weight;
  auto [inserted, unused] = counters_.emplace(std::string(key), counter);
  (void)unused;
  inserted->second.by_count = by_count_.emplace(inserted->second.count, inserted->first);
}

std::vector<TopKeys::Entry> TopKeys::Top(size_t n) const {
  std::vector<Entry> top;
  for (auto it = by_count_.rbegin(); it != by_count_.rend() && top.size() < n;
       ++it) {
    const Counter& c = counters_.at(it->second);
    top.push_back(Entry{it->second, c.count, c.error});
  }
  std::stable_sort(top.begin(), top.end(), [](const Entry& a, const Entry& b) {
    return a.count != b.count ? a.count > b.count : a.key < b.key;
  });
  return top;
}

void TopKeys::Clear() {
  total_ = 0;
  counters_.clear();
  by_count_.clear();
}

}  // namespace quorumkv
