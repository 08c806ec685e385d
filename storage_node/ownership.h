// Whether this node may serve a request for a partition (DESIGN.md 5:
// WrongNode), shared by the node's client and replica services.
#ifndef QUORUMKV_STORAGE_NODE_OWNERSHIP_H_
#define QUORUMKV_STORAGE_NODE_OWNERSHIP_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "common/directory.h"

namespace quorumkv {

// OK when `self_id` holds `partition` in `directory` and the sender's
// directory (`sender_epoch`, 0 if unknown) is not newer. Otherwise
// FAILED_PRECONDITION with a WrongNode detail; when the sender is ahead,
// `request_refresh` is called so this node catches up.
absl::Status CheckOwnership(const DirectoryView& directory,
                            const std::string& self_id, uint32_t partition,
                            uint64_t sender_epoch,
                            const std::function<void()>& request_refresh);

// UNAVAILABLE when the node has not received a formed directory yet.
absl::Status CheckFormed(const DirectoryView& directory);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_OWNERSHIP_H_
