#include "storage_node/directory_watcher.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "common/directory_codec.h"
#include "common/grpc_util.h"
#include "common/logging.h"

namespace quorumkv {
namespace {

// The master answers within a few seconds; a poll that takes longer than
// this is abandoned and made again.
constexpr absl::Duration kPollDeadline = absl::Seconds(10);
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(2);

}  // namespace

DirectoryWatcher::DirectoryWatcher(MasterSet* masters,
                                   DirectoryHolder* directory,
                                   ClusterIdentity* cluster,
                                   std::function<void()> on_new_epoch)
    : masters_(masters),
      directory_(directory),
      cluster_(cluster),
      on_new_epoch_(std::move(on_new_epoch)) {}

DirectoryWatcher::~DirectoryWatcher() { Stop(); }

void DirectoryWatcher::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void DirectoryWatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (active_ != nullptr) active_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void DirectoryWatcher::Loop() {
  absl::Duration backoff = kFirstBackoff;
  size_t master = masters_->preferred();
  bool ask_whole = false;  // after a delta that did not fit
  while (true) {
    grpc::ClientContext context;
    SetTimeout(context, kPollDeadline);
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      active_ = &context;
    }
    const DirectoryPtr held = directory_->Get();
    WatchDirectoryRequest request;
    request.set_known_epoch(ask_whole ? 0 : held->epoch());
    request.set_compact(true);
    WatchDirectoryResponse response;
    const grpc::Status status =
        masters_->stub(master)->WatchDirectory(&context, request, &response);
    absl::Duration wait = absl::ZeroDuration();
    {
      absl::MutexLock lock(&mu_);
      active_ = nullptr;
      if (stopping_) return;
      if (!status.ok()) {
        // The heartbeater reports an unreachable master; wait, and try the
        // next one (they all follow the directory).
        wait = backoff;
        backoff = std::min(backoff * 2, kMaxBackoff);
        master = (master + 1) % masters_->size();
      } else {
        backoff = kFirstBackoff;
      }
    }
    if (status.ok() && (response.has_update() || response.has_directory())) {
      // Another cluster's directory is not installed; the heartbeater's
      // registration finds out and stops the node. After a delta that does
      // not fit, the next poll asks for the whole directory.
      absl::StatusOr<Directory> directory = DirectoryIn(
          ask_whole ? Directory() : held->proto(), response);
      ask_whole = !directory.ok();
      if (ask_whole) wait = std::max(wait, kFirstBackoff);
      absl::StatusOr<bool> installed =
          directory.ok() ? cluster_->Install(*directory, directory_)
                         : absl::StatusOr<bool>(directory.status());
      if (!installed.ok()) {
        QKV_LOG(ERROR) << installed.status().message();
      } else if (*installed) {
        QKV_LOG(INFO) << "directory epoch " << directory->epoch();
        on_new_epoch_();
      }
    }
    if (wait > absl::ZeroDuration()) {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), wait);
    }
  }
}

}  // namespace quorumkv
