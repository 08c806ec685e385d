#include "storage_node/hint_writer.h"

#include <utility>

#include "common/logging.h"

namespace quorumkv {

HintWriter::HintWriter(HintStore* store)
    : store_(store), thread_([this] { Loop(); }) {}

HintWriter::~HintWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void HintWriter::Add(const std::string& target, const ApplyRequest& request) {
  const size_t bytes = request.ByteSizeLong();
  absl::MutexLock lock(&mu_);
  if (queued_bytes_ + bytes > kMaxQueuedBytes) {
    store_->CountDropped(1);
    store_->MarkDiverged(request.partition());
    return;
  }
  queued_bytes_ += bytes;
  ++enqueued_;
  queue_.push_back({target, request});
}

void HintWriter::Flush() {
  absl::MutexLock lock(&mu_);
  const uint64_t mark = enqueued_;
  auto done = [this, mark]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return written_ >= mark;
  };
  mu_.Await(absl::Condition(&done));
}

size_t HintWriter::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void HintWriter::Loop() {
  while (true) {
    std::vector<HintStore::NewHint> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and everything is stored
      batch.swap(queue_);
      queued_bytes_ = 0;
    }
    const size_t n = batch.size();
    std::vector<uint32_t> partitions;
    for (const HintStore::NewHint& hint : batch) {
      partitions.push_back(hint.request.partition());
    }
    if (absl::Status s = store_->Add(std::move(batch)); !s.ok()) {
      store_->CountDropped(n);
      for (uint32_t p : partitions) store_->MarkDiverged(p);
      QKV_LOG(ERROR) << "cannot store " << n << " hints: " << s;
    }
    absl::MutexLock lock(&mu_);
    written_ += n;
  }
}

}  // namespace quorumkv
