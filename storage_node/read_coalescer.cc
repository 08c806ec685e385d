#include "storage_node/read_coalescer.h"

#include <algorithm>
#include <utility>

namespace quorumkv {

void ReadCoalescer::Read(const std::string& group, absl::Time deadline,
                         ReadDone done, StartRound start) {
  {
    Shard& shard = ShardOf(group);
    absl::MutexLock lock(&shard.mu);
    auto [entry, fresh] = shard.groups.try_emplace(group);
    if (!fresh) {
      // A round is in flight, sent before this read arrived: wait for the
      // next one.
      Waiting& waiting = entry->second;
      if (waiting.reads.empty()) waiting.start = std::move(start);
      waiting.reads.push_back(std::move(done));
      waiting.deadline = std::min(waiting.deadline, deadline);
      return;
    }
  }
  std::vector<ReadDone> reads;
  reads.push_back(std::move(done));
  Run(group, std::move(reads), deadline, std::move(start));
}

void ReadCoalescer::Run(const std::string& group, std::vector<ReadDone> reads,
                        absl::Time deadline, StartRound start) {
  rounds_.fetch_add(1, std::memory_order_relaxed);
  auto shared = std::make_shared<std::vector<ReadDone>>(std::move(reads));
  start(deadline, [this, group, shared](absl::StatusOr<VersionedValue> result) {
    Finish(group, std::move(*shared), std::move(result));
  });
}

void ReadCoalescer::Finish(const std::string& group,
                           std::vector<ReadDone> reads,
                           absl::StatusOr<VersionedValue> result) {
  if (reads.size() > 1) {
    shared_reads_.fetch_add(reads.size(), std::memory_order_relaxed);
  }
  for (ReadDone& done : reads) done(result);
  Waiting next;
  {
    Shard& shard = ShardOf(group);
    absl::MutexLock lock(&shard.mu);
    auto entry = shard.groups.find(group);
    if (entry->second.reads.empty()) {
      shard.groups.erase(entry);
      return;
    }
    // The group stays present: the next round is in flight from now.
    next = std::move(entry->second);
    entry->second = Waiting();
  }
  Run(group, std::move(next.reads), next.deadline, std::move(next.start));
}

}  // namespace quorumkv
