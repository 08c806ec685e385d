// Pending long polls of MasterService.WatchDirectory: each is answered with
// the new directory as soon as one is committed, or empty after `max_wait`.
// A pending poll holds a reactor, not a thread. Thread-safe.
#ifndef QUORUMKV_MASTER_DIRECTORY_WATCH_H_
#define QUORUMKV_MASTER_DIRECTORY_WATCH_H_

#include <cstdint>
#include <map>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/directory.h"
#include "common/timer_queue.h"
#include "master/directory_history.h"
#include "grpcpp/support/server_callback.h"
#include "proto/master.pb.h"

namespace quorumkv {

class DirectoryWatch {
 public:
  explicit DirectoryWatch(absl::Duration max_wait);
  ~DirectoryWatch();  // Close()s.

  // Answers `reactor` (filling `response`, which must live until then) at
  // once when `current` is newer than the request's known epoch, else on
  // the next Notify() or after max_wait, whichever comes first. A request
  // that asks for `compact` gets the changes since its epoch when `history`
  // (which must outlive the watch) still has it.
  void Add(const WatchDirectoryRequest& request, const DirectoryPtr& current,
           DirectoryHistory* history, grpc::ServerUnaryReactor* reactor,
           WatchDirectoryResponse* response);
  // A new directory was published.
  void Notify(const DirectoryPtr& directory);
  // Answers every pending poll (empty) and every later one at once.
  void Close();

 private:
  struct Waiter {
    WatchDirectoryRequest request;
    DirectoryHistory* history;
    grpc::ServerUnaryReactor* reactor;
    WatchDirectoryResponse* response;
  };
  // Fills `w`'s response with `directory`, as its request asked.
  static void Answer(const Waiter& w, const DirectoryPtr& directory);
  // Answers waiter `id` unless it was answered already.
  void Expire(uint64_t id);

  const absl::Duration max_wait_;

  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  // The last directory notified: a poll that read an older one as
  // `current` just before a commit is answered with this one.
  DirectoryPtr latest_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Waiter> waiters_ ABSL_GUARDED_BY(mu_);

  TimerQueue timers_;  // Last: its callbacks touch the members above.
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_DIRECTORY_WATCH_H_
