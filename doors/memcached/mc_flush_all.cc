// flush_all: every partition of the directory walked page by page, keys
// only, and each key deleted.
#include "doors/memcached/mc_commands.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "doors/kv_gateway.h"
#include "proto/kv.pb.h"

namespace quorumkv {
namespace {

class FlushAll : public std::enable_shared_from_this<FlushAll> {
 public:
  FlushAll(KvGateway* gateway, McDone done)
      : gateway_(gateway), done_(std::move(done)) {}

  void Start() {
    auto self = shared_from_this();
    Post([self] {
      self->partitions_ = self->gateway_->directory()->partitions();
      self->workers_ = std::min(kWorkers, self->partitions_);
      if (self->workers_ == 0) return self->Finish();
      const uint32_t workers = self->workers_;
      for (uint32_t i = 0; i < workers; ++i) self->NextPartition();
    });
  }

 private:
  // Partitions walked side by side, and keys per page.
  static constexpr uint32_t kWorkers = 4;
  static constexpr uint32_t kPageKeys = 1000;

  // One page of a partition whose keys are being deleted.
  struct Page {
    uint32_t partition = 0;
    size_t pending = 0;  // deletes not answered yet
    bool done = false;   // the partition's last page
    std::string resume_after;
  };

  // Runs `step` after the steps posted before it, one at a time, on
  // whichever thread posts while none runs. Answers that come before Call
  // returns thus never nest one step in another (no stack growth over
  // thousands of partitions), and the walk's own state below needs no
  // lock: only steps touch it.
  void Post(std::function<void()> step) {
    {
      absl::MutexLock lock(&mu_);
      steps_.push_back(std::move(step));
      if (running_) return;
      running_ = true;
    }
    for (;;) {
      std::function<void()> next;
      {
        absl::MutexLock lock(&mu_);
        if (steps_.empty()) {
          running_ = false;
          return;
        }
        next = std::move(steps_.front());
        steps_.pop_front();
      }
      next();
    }
  }

  // A worker takes the next partition, or stops when none is left or a
  // call failed.
  void NextPartition() {
    if (!status_.ok() || next_ == partitions_) {
      if (--workers_ == 0) Finish();
      return;
    }
    Scan(next_++, "");
  }

  void Scan(uint32_t partition, std::string start_after) {
    ScanRequest scan;
    scan.set_partition(partition);
    scan.set_start_after(std::move(start_after));
    scan.set_limit(kPageKeys);
    scan.set_keys_only(true);
    auto self = shared_from_this();
    gateway_->Call(std::move(scan), [self, partition](
                                        absl::StatusOr<ScanResponse> page) {
      self->Post([self, partition, page = std::move(page)]() mutable {
        self->OnPage(partition, std::move(page));
      });
    });
  }

  void OnPage(uint32_t partition, absl::StatusOr<ScanResponse> answer) {
    if (!answer.ok()) {
      status_ = answer.status();
      return NextPartition();
    }
    auto page = std::make_shared<Page>();
    page->partition = partition;
    page->done = answer->done();
    page->resume_after = answer->resume_after();
    if (!page->done && page->resume_after.empty()) {
      // Not expected of a page that is not the last; never walk in place.
      if (answer->items().empty()) {
        page->done = true;
      } else {
        page->resume_after = answer->items().rbegin()->key();
      }
    }
    page->pending = answer->items_size();
    if (page->pending == 0) return Continue(*page);
    auto self = shared_from_this();
    for (const ScannedKey& item : answer->items()) {
      DeleteRequest del;
      del.set_key(item.key());
      gateway_->Call(std::move(del), [self, page](
                                         absl::StatusOr<DeleteResponse> deleted) {
        absl::Status status = deleted.status();
        self->Post([self, page, status] { self->OnDeleted(*page, status); });
      });
    }
  }

  void OnDeleted(Page& page, const absl::Status& status) {
    if (!status.ok() && status_.ok()) status_ = status;
    if (--page.pending == 0) Continue(page);
  }

  void Continue(const Page& page) {
    if (!status_.ok() || page.done) return NextPartition();
    Scan(page.partition, page.resume_after);
  }

  void Finish() { done_(status_.ok() ? "OK\r\n" : McServerError(status_)); }

  KvGateway* const gateway_;
  const McDone done_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> steps_ ABSL_GUARDED_BY(mu_);
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  // Steps only.
  uint32_t partitions_ = 0;
  uint32_t next_ = 0;     // the next partition to walk
  uint32_t workers_ = 0;  // workers still walking
  absl::Status status_;   // the first failure
};

}  // namespace

void McFlushAll(KvGateway* gateway, McDone done) {
  std::make_shared<FlushAll>(gateway, std::move(done))->Start();
}

}  // namespace quorumkv
