#include "storage_node/quorum_scanner.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/deadlines.h"
#include "common/rpc_status.h"
#include "storage_node/quorum_tally.h"
#include "storage_node/scan_merge.h"

namespace quorumkv {

struct QuorumScanner::Round {
  DirectoryPtr directory;
  ScanRequest request;
  RangeRequest range;
  absl::Time deadline;
  uint32_t needed = 0;

  absl::Mutex mu;
  // Replicas not asked yet, in the order to ask them.
  std::vector<std::string> next ABSL_GUARDED_BY(mu);
  std::vector<RangeResponse> pages ABSL_GUARDED_BY(mu);
  uint32_t outstanding ABSL_GUARDED_BY(mu) = 0;
  std::vector<std::string> errors ABSL_GUARDED_BY(mu);
  ScanDone done ABSL_GUARDED_BY(mu);
};

QuorumScanner::QuorumScanner(ReplicaAccess* replicas) : replicas_(replicas) {}

void QuorumScanner::Scan(DirectoryPtr directory, const ScanRequest& request,
                         uint32_t r, absl::Time deadline, ScanDone done) {
  auto round = std::make_shared<Round>();
  round->directory = directory;
  round->request = request;
  round->range.set_partition(request.partition());
  round->range.set_start_after(request.start_after());
  round->range.set_prefix(request.prefix());
  round->range.set_limit(request.limit());
  round->range.set_keys_only(request.keys_only());
  round->range.set_directory_epoch(directory->epoch());
  round->deadline = InnerDeadline(deadline);
  round->needed = r;
  // This node first (no network), then live replicas, then the others.
  const std::string& self = replicas_->self_id();
  std::vector<std::string> order = {self};
  for (bool alive : {true, false}) {
    for (const std::string& id : directory->Replicas(request.partition())) {
      if (id != self && replicas_->Alive(*directory, id) == alive) {
        order.push_back(id);
      }
    }
  }
  std::vector<std::string> first;
  {
    absl::MutexLock lock(&round->mu);
    round->done = std::move(done);
    for (size_t i = 0; i < order.size(); ++i) {
      (i < r ? first : round->next).push_back(order[i]);
    }
    round->outstanding = first.size();
  }
  for (const std::string& id : first) Ask(round, id);
}

void QuorumScanner::Ask(const std::shared_ptr<Round>& round,
                        const std::string& node_id) {
  replicas_->Range(*round->directory, node_id, round->range, round->deadline,
                   [this, round, node_id](absl::StatusOr<RangeResponse> page) {
                     OnPage(round, node_id, std::move(page));
                   });
}

void QuorumScanner::OnPage(const std::shared_ptr<Round>& round,
                           const std::string& node_id,
                           absl::StatusOr<RangeResponse> page) {
  ScanDone done;
  absl::StatusOr<ScanResponse> result;
  std::string retry_on;
  {
    absl::MutexLock lock(&round->mu);
    if (!round->done) return;  // answered already
    --round->outstanding;
    if (page.ok()) {
      round->pages.push_back(*std::move(page));
    } else {
      round->errors.push_back(absl::StrCat(
          DescribeReplica(*round->directory, node_id), ": ",
          page.status().message()));
      if (!round->next.empty()) {
        retry_on = round->next.front();
        round->next.erase(round->next.begin());
        ++round->outstanding;
      }
    }
    ReadTally tally;
    tally.needed = round->needed;
    tally.answered = round->pages.size();
    tally.outstanding = round->outstanding;
    switch (Conclude(tally)) {
      case ReadVerdict::kWaiting:
        break;
      case ReadVerdict::kQuorum:
        result = MergeScanPages(round->pages, round->request.limit(),
                                absl::ToUnixMillis(absl::Now()));
        done = std::move(round->done);
        break;
      case ReadVerdict::kQuorumNotReached: {
        QuorumNotReached detail;
        detail.set_acknowledged(tally.answered);
        detail.set_required(round->needed);
        detail.set_replicas(
            round->directory->Replicas(round->request.partition()).size());
        result = QuorumError(
            QuorumFailureCode(round->deadline, absl::Now()),
            absl::StrCat("coordinator ",
                         DescribeReplica(*round->directory,
                                         replicas_->self_id()),
                         ": scan of partition ", round->request.partition(),
                         ": ", tally.answered, " of ", round->needed,
                         " replicas answered (R=", round->needed, "); ",
                         absl::StrJoin(round->errors, "; ")),
            detail);
        done = std::move(round->done);
        break;
      }
    }
  }
  if (!retry_on.empty()) Ask(round, retry_on);
  if (done) done(std::move(result));
}

}  // namespace quorumkv
