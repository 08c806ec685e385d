#include "master/directory_watch.h"

#include <utility>
#include <vector>

#include "absl/time/clock.h"

namespace quorumkv {

DirectoryWatch::DirectoryWatch(absl::Duration max_wait) : max_wait_(max_wait) {}

DirectoryWatch::~DirectoryWatch() { Close(); }

void DirectoryWatch::Answer(const Waiter& w, const DirectoryPtr& directory) {
  if (!w.request.compact()) {
    *w.response->mutable_directory() = directory->proto();
    return;
  }
  *w.response->mutable_update() =
      *w.history->UpdateFor(w.request.known_epoch(), directory);
}

void DirectoryWatch::Add(const WatchDirectoryRequest& request,
                         const DirectoryPtr& current,
                         DirectoryHistory* history,
                         grpc::ServerUnaryReactor* reactor,
                         WatchDirectoryResponse* response) {
  uint64_t id;
  const Waiter waiter{request, history, reactor, response};
  {
    absl::MutexLock lock(&mu_);
    const DirectoryPtr& newest =
        latest_ != nullptr && latest_->epoch() > current->epoch() ? latest_
                                                                  : current;
    if (!closed_ && newest->epoch() <= request.known_epoch()) {
      id = next_id_++;
      waiters_[id] = waiter;
    } else {
      if (!closed_) Answer(waiter, newest);
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
      if (directory->epoch() > it->second.request.known_epoch()) {
        ready.push_back(it->second);
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (Waiter& w : ready) {
    Answer(w, directory);
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
