#include "storage_node/hint_replayer.h"

#include <optional>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/rpc_status.h"

namespace quorumkv {
namespace {

// Hints sent together; the peer stream packs them into few messages.
constexpr size_t kBatch = 256;
constexpr absl::Duration kBatchTimeout = absl::Seconds(5);

bool Unreachable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsCancelled(status);
}

}  // namespace

HintReplayer::HintReplayer(HintStore* hints, const DirectoryHolder* directory,
                           PeerSet* peers, absl::Duration interval)
    : hints_(hints),
      directory_(directory),
      peers_(peers),
      interval_(interval),
      task_([this] { return ReplayAll(); }) {}

HintReplayer::~HintReplayer() { Stop(); }

void HintReplayer::Start() { task_.Start(); }
void HintReplayer::Stop() { task_.Stop(); }

absl::Duration HintReplayer::ReplayAll() {
  if (hints_->pending() == 0) return interval_;
  DirectoryPtr directory = directory_->Get();
  for (const std::string& target : hints_->Targets()) {
    ReplayTo(*directory, target);
  }
  return interval_;
}

void HintReplayer::ReplayTo(const DirectoryView& directory,
                            const std::string& target) {
  const NodeDescriptor* node = directory.FindNode(target);
  if (node == nullptr) return;  // Not known yet; a newer directory may say.
  Peer* peer = peers_->Get(node->address());
  // A request to a peer that cannot be reached waits for it until its
  // deadline; this thread has other targets to serve meanwhile.
  if (!peer->healthy()) return;
  uint64_t delivered = 0, dropped = 0, refused = 0, counted = 0;
  bool reachable = true;
  while (reachable) {
    std::vector<HintStore::Hint> batch = hints_->Peek(target, kBatch);
    if (batch.empty()) break;
    std::vector<HintStore::Hint> done, to_send;
    for (HintStore::Hint& hint : batch) {
      const uint32_t p = hint.request.partition();
      const bool expired = hints_->Expired(hint);
      if (expired || (directory.formed() && !directory.Holds(target, p) &&
                      !directory.IsJoining(target, p))) {
        // Expired: the target never gets this write from here.
        if (expired) hints_->MarkDiverged(p);
        ++dropped;
        done.push_back(std::move(hint));
      } else {
        hint.request.set_directory_epoch(directory.epoch());
        to_send.push_back(std::move(hint));
      }
    }
    std::vector<absl::Status> outcomes(to_send.size());
    absl::BlockingCounter answered(static_cast<int>(to_send.size()));
    const absl::Time deadline = absl::Now() + kBatchTimeout;
    for (size_t i = 0; i < to_send.size(); ++i) {
      peer->Apply(to_send[i].request, deadline,
                  [&outcomes, &answered, i](absl::StatusOr<ApplyResponse> r) {
                    outcomes[i] = r.status();
                    answered.DecrementCount();
                  });
    }
    answered.Wait();  // Every call has a deadline: this ends.
    for (size_t i = 0; i < to_send.size(); ++i) {
      const absl::Status& status = outcomes[i];
      std::optional<WrongNode> wrong = GetWrongNode(status);
      if (status.ok()) {
        ++delivered;
      } else if (wrong && wrong->epoch() >= directory.epoch()) {
        ++dropped;  // It left the partition at our epoch or later.
      } else if (Unreachable(status) || wrong) {
        reachable = false;  // Down again, or behind us: next round.
        continue;
      } else {
        ++refused;
        hints_->MarkDiverged(to_send[i].request.partition());
        QKV_LOG(WARNING) << "dropping a hint that " << target
                         << " refused: " << status.message();
      }
      done.push_back(std::move(to_send[i]));
    }
    if (absl::Status s = hints_->Remove(done); !s.ok()) {
      QKV_LOG(ERROR) << s;
      break;
    }
    // Counted with the removal, so that no one sees a hint gone but not yet
    // counted.
    hints_->CountDropped(dropped + refused - counted);
    counted = dropped + refused;
    if (done.empty()) break;
  }
  replayed_ += delivered;
  refused_ += refused;
  if (delivered + dropped + refused > 0) {
    QKV_LOG(INFO) << "hints for " << target << ": " << delivered
                  << " delivered, " << dropped << " dropped (expired or "
                  << "partition left), " << refused << " refused";
  }
}

}  // namespace quorumkv
