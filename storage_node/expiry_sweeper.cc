#include "storage_node/expiry_sweeper.h"

#include "common/logging.h"

namespace quorumkv {

ExpirySweeper::ExpirySweeper(Engine* engine)
    : engine_(engine), task_([this] { return RunOnce(); }) {}

ExpirySweeper::~ExpirySweeper() { Stop(); }

void ExpirySweeper::Start() { task_.Start(); }
void ExpirySweeper::Stop() { task_.Stop(); }

uint64_t ExpirySweeper::purged() const {
  absl::MutexLock lock(&mu_);
  return purged_;
}

absl::Duration ExpirySweeper::RunOnce() {
  // Repaired-before times move at most once per anti-entropy pass of a
  // partition (minutes apart): looking once a second costs nothing.
  for (uint32_t partition : engine_->TakeRepairedPartitions()) {
    absl::StatusOr<size_t> purged = engine_->PurgeExpired(partition);
    if (!purged.ok()) {
      QKV_LOG(ERROR) << "purging expired rows of partition " << partition
                     << ": " << purged.status();
      continue;
    }
    if (*purged == 0) continue;
    QKV_LOG(INFO) << "purged " << *purged << " expired rows of partition "
                  << partition;
    absl::MutexLock lock(&mu_);
    purged_ += *purged;
  }
  return absl::Seconds(1);
}

}  // namespace quorumkv
