#include "common/batch_cork.h"

namespace quorumkv {
namespace {

thread_local BatchCork* active_cork = nullptr;

}  // namespace

BatchCork::BatchCork() : outer_(active_cork) {
  if (outer_ == nullptr) active_cork = this;
}

BatchCork::~BatchCork() {
  if (outer_ != nullptr) return;
  // Flushes may send, and sending may complete work that defers again:
  // drain until nothing is left, then uncork.
  while (!deferred_.empty()) {
    std::vector<std::pair<void*, void (*)(void*)>> now;
    now.swap(deferred_);
    for (auto& [object, flush] : now) flush(object);
  }
  active_cork = nullptr;
}

bool BatchCork::Defer(void* object, void (*flush)(void*)) {
  BatchCork* cork = active_cork;
  if (cork == nullptr) return false;
  for (const auto& entry : cork->deferred_) {
    if (entry.first == object) return true;
  }
  cork->deferred_.emplace_back(object, flush);
  return true;
}

}  // namespace quorumkv
