#include "master/directory_watch.h"

#include <utility>
#include <vector>

#include "absl/time/clock.h"

namespace quorumkv {

DirectoryWatch::DirectoryWatch(absl::Duration max_wait) : max_wait_(max_wait) {}

DirectoryWatch::~DirectoryWatch() { Close(); }

void DirectoryWatch::Add(uint64_t known_epoch, const DirectoryPtr& current,
                         grpc::ServerUnaryReactor* reactor,
                         WatchDirectoryResponse* response) {
  uint64_t id;
  {
    absl::MutexLock lock(&mu_);
    const DirectoryPtr& newest =
        latest_ != nullptr && latest_->epoch() > current->epoch() ? latest_
                                                                  : current;
    if (!closed_ && newest->epoch() <= known_epoch) {
      id = next_id_++;
      waiters_[id] = Waiter{known_epoch, reactor, response};
    } else {
      if (!closed_) *response->mutable_directory() = newest->proto();
      reactor->Finish(grpc::Status::OK);
      return;
    }
  }
  timers_.RunAt(absl::Now() + max_wait_, [this, id] { Expire(id); });
}

void DirectoryWatch::Expire(uint64_t id) {
  grpc::ServerUnaryReactor* reactor = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto it = waiters_.find(id);
    if (it == waiters_.end()) return;
    reactor = it->second.reactor;
    waiters_.erase(it);
  }
  reactor->Finish(grpc::Status::OK);
}

void DirectoryWatch::Notify(const DirectoryPtr& directory) {
  std::vector<Waiter> ready;
  {
    absl::MutexLock lock(&mu_);
    latest_ = directory;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (directory->epoch() > it->second.known_epoch) {
        ready.push_back(it->second);
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Waiter& w : ready) {
    *w.response->mutable_directory() = directory->proto();
    w.reactor->Finish(grpc::Status::OK);
  }
}

void DirectoryWatch::Close() {
  std::map<uint64_t, Waiter> pending;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    pending.swap(waiters_);
  }
  for (auto& [id, w] : pending) w.reactor->Finish(grpc::Status::OK);
}

}  // namespace quorumkv
