#include "storage_node/hint_replayer.h"

#include <optional>

#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/rpc_status.h"

namespace quorumkv {
namespace {

constexpr size_t kBatch = 128;
constexpr absl::Duration kCallTimeout = absl::Seconds(2);

}  // namespace

HintReplayer::HintReplayer(HintStore* hints, const DirectoryHolder* directory,
                           PeerSet* peers,
                           absl::Duration interval)
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
  size_t delivered = 0;
  while (true) {
    std::vector<HintStore::Hint> batch = hints_->Peek(target, kBatch);
    if (batch.empty()) break;
    for (HintStore::Hint& hint : batch) {
      hint.request.set_directory_epoch(directory.epoch());
      absl::Status status =
          peer->ApplyAndWait(hint.request, absl::Now() + kCallTimeout).status();
      std::optional<WrongNode> wrong = GetWrongNode(status);
      if (wrong && wrong->epoch() >= directory.epoch()) {
        // The target does not hold the partition at our epoch or later: it
        // left it, and its new holders got the row by stream.
        status = absl::OkStatus();
      }
      if (!status.ok()) {
        if (delivered > 0) {
          QKV_LOG(INFO) << "delivered " << delivered << " hints to " << target;
        }
        return;  // Still down; try again next round.
      }
      if (absl::Status s = hints_->Remove(hint.id); !s.ok()) {
        QKV_LOG(ERROR) << s;
        return;
      }
      ++delivered;
    }
  }
  QKV_LOG(INFO) << "delivered " << delivered << " hints to " << target;
}

}  // namespace quorumkv
