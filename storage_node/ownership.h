// Whether this node may serve a request for a partition, or must answer
// WrongNode (as Redis Cluster answers MOVED). Shared by the node's client
// and replica services.
#ifndef QUORUMKV_STORAGE_NODE_OWNERSHIP_H_
#define QUORUMKV_STORAGE_NODE_OWNERSHIP_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "common/directory.h"

namespace quorumkv {

// OK unless the sender routes by a newer directory (`sender_epoch`, 0 if
// unknown) than this node's: then FAILED_PRECONDITION with a WrongNode
// detail, after calling `request_refresh` so this node catches up. Checked
// before anything else, so a node that has no directory yet redirects too.
absl::Status CheckSenderEpoch(const DirectoryView& directory,
                              const std::string& self_id,
                              uint64_t sender_epoch,
                              const std::function<void()>& request_refresh);

// OK when `self_id` holds `partition` in `directory`; FAILED_PRECONDITION
// with a WrongNode detail otherwise.
absl::Status CheckHolds(const DirectoryView& directory,
                        const std::string& self_id, uint32_t partition);

// UNAVAILABLE when the node has not received a formed directory yet.
absl::Status CheckFormed(const DirectoryView& directory);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_OWNERSHIP_H_
