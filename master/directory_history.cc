#include "master/directory_history.h"

#include <utility>

#include "common/directory_codec.h"

namespace quorumkv {

void DirectoryHistory::Add(DirectoryPtr directory) {
  absl::MutexLock lock(&mu_);
  kept_.push_back(std::move(directory));
  if (kept_.size() > kKept) kept_.pop_front();
}

DirectoryPtr DirectoryHistory::Find(uint64_t epoch) const {
  for (const DirectoryPtr& d : kept_) {
    if (d->epoch() == epoch) return d;
  }
  return nullptr;
}

std::shared_ptr<const DirectoryUpdate> DirectoryHistory::UpdateFor(
    uint64_t known_epoch, const DirectoryPtr& current) {
  DirectoryPtr known;
  {
    absl::MutexLock lock(&mu_);
    if (answers_for_ != current->epoch()) {
      answers_for_ = current->epoch();
      answers_.clear();
      whole_ = nullptr;
    }
    known = Find(known_epoch);
    if (known == nullptr || known_epoch >= current->epoch()) {
      if (whole_ != nullptr) return whole_;
      known = nullptr;
    } else if (auto it = answers_.find(known_epoch); it != answers_.end()) {
      return it->second;
    }
  }
  // Made outside the lock (tens of milliseconds at 65 536 partitions);
  // callers that race here make it twice, and one copy is kept.
  auto update = std::make_shared<const DirectoryUpdate>(
      MakeUpdate(known == nullptr ? nullptr : &known->proto(), current->proto()));
  absl::MutexLock lock(&mu_);
  if (answers_for_ == current->epoch()) {
    if (update->has_full()) {
      whole_ = update;
    } else {
      answers_[known_epoch] = update;
    }
  }
  return update;
}

}  // namespace quorumkv
