#include "storage_node/partition_cleaner.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "common/logging.h"

namespace quorumkv {

PartitionCleaner::PartitionCleaner(std::string self_id, Engine* engine,
                                   const DirectoryHolder* directory,
                                   absl::Duration grace)
    : self_id_(std::move(self_id)),
      engine_(engine),
      directory_(directory),
      grace_(grace),
      task_([this] { return RunOnce(); }) {}

PartitionCleaner::~PartitionCleaner() { Stop(); }

void PartitionCleaner::Start() { task_.Start(); }
void PartitionCleaner::Stop() { task_.Stop(); }

uint64_t PartitionCleaner::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

absl::Duration PartitionCleaner::RunOnce() {
  const absl::Duration interval =
      std::clamp(grace_ / 4, absl::Milliseconds(50), absl::Seconds(1));
  DirectoryPtr directory = directory_->Get();
  // Until the node has a formed directory from the master it knows nothing
  // of what it holds: it must not delete anything.
  if (!directory->formed()) return interval;
  const absl::Time now = absl::Now();
  auto owned = [&](const DirectoryView& d, uint32_t p) {
    return d.Holds(self_id_, p) || d.IsJoining(self_id_, p);
  };
  for (uint32_t p = 0; p < directory->partitions(); ++p) {
    if (owned(*directory, p)) {
      unowned_.erase(p);
      continue;
    }
    auto [it, inserted] = unowned_.try_emplace(p, Unowned{now});
    if (inserted || it->second.clean || now - it->second.since < grace_) {
      continue;
    }
    if (!engine_->HasRows(p)) {
      it->second.clean = true;
      continue;
    }
    // The newest directory may have given the partition back meanwhile.
    if (owned(*directory_->Get(), p)) continue;
    if (absl::Status s = engine_->DropPartition(p); !s.ok()) {
      QKV_LOG(ERROR) << "cannot drop partition " << p << ": " << s;
      continue;
    }
    it->second.clean = true;
    absl::StatusOr<uint64_t> hints = engine_->hints().RemovePartition(p);
    QKV_LOG(INFO) << "dropped partition " << p
                  << ", no longer held at directory epoch "
                  << directory->epoch() << " ("
                  << (hints.ok() ? *hints : 0) << " hints dropped)";
    absl::MutexLock lock(&mu_);
    ++dropped_;
  }
  return interval;
}

}  // namespace quorumkv
