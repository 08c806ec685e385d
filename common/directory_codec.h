// The directory in its compact form (proto/master.proto CompactDirectory):
// each node named once, partitions referring to nodes by index. The
// masters keep it so in etcd; the conversion is exact both ways.
#ifndef QUORUMKV_COMMON_DIRECTORY_CODEC_H_
#define QUORUMKV_COMMON_DIRECTORY_CODEC_H_

#include "absl/status/statusor.h"
#include "proto/master.pb.h"

namespace quorumkv {

// Every replica id of `directory` must name one of its nodes (the master
// adds a node before it places anything on it).
CompactDirectory Compact(const Directory& directory);
// DATA_LOSS naming the partition when an index names no node.
absl::StatusOr<Directory> Expand(const CompactDirectory& compact);

// What a caller that holds `known` (null: nothing) needs to hold `current`:
// the changed partitions only when `known` is an older epoch of the same
// shape, the whole directory otherwise.
DirectoryUpdate MakeUpdate(const Directory* known, const Directory& current);
// `current` (what the caller holds) brought up to date by `update`.
// FAILED_PRECONDITION when a delta does not start from current's epoch;
// DATA_LOSS for one that does not fit it.
absl::StatusOr<Directory> ApplyUpdate(const Directory& current,
                                      const DirectoryUpdate& update);

// The directory a GetDirectoryResponse or WatchDirectoryResponse carries,
// for a caller that asked with `compact` while holding `sent_with` (apply
// the delta to what the request named, not to what the caller holds by
// now: another fetch may have moved it on meanwhile). An answer without
// `update` (from a master that predates the compact form) is taken whole.
template <typename Response>
absl::StatusOr<Directory> DirectoryIn(const Directory& sent_with,
                                      const Response& response) {
  if (response.has_update()) return ApplyUpdate(sent_with, response.update());
  return response.directory();
}

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_DIRECTORY_CODEC_H_
