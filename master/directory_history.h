// The directories a master published last, by epoch, and the answers made
// from them: a caller that holds a recent epoch is sent only the
// partitions that changed since (GetDirectory and WatchDirectory with
// `compact`; common/directory_codec.h). Each answer is made once per
// epoch published and shared by every caller that asks for it: after a
// change, every node's watch asks for the same one.
//
// Thread-safe.
#ifndef QUORUMKV_MASTER_DIRECTORY_HISTORY_H_
#define QUORUMKV_MASTER_DIRECTORY_HISTORY_H_

#include <cstdint>
#include <deque>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "common/directory.h"
#include "proto/master.pb.h"

namespace quorumkv {

class DirectoryHistory {
 public:
  // How many epochs back a caller may be and still get a delta.
  static constexpr size_t kKept = 32;

  // `directory` was published.
  void Add(DirectoryPtr directory);
  // What a caller that holds `known_epoch` needs to hold `current`: the
  // changes since, when that epoch is kept, else `current` whole.
  std::shared_ptr<const DirectoryUpdate> UpdateFor(uint64_t known_epoch,
                                                   const DirectoryPtr& current);

 private:
  // The directory of `epoch`, or null when it is not kept.
  DirectoryPtr Find(uint64_t epoch) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::deque<DirectoryPtr> kept_ ABSL_GUARDED_BY(mu_);
  // Answers made for the epoch `answers_for_`, by the caller's epoch (a
  // whole directory under every epoch that is not kept).
  uint64_t answers_for_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, std::shared_ptr<const DirectoryUpdate>>
      answers_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const DirectoryUpdate> whole_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quorumkv

#endif  // QUORUMKV_MASTER_DIRECTORY_HISTORY_H_
