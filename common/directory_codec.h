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

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_DIRECTORY_CODEC_H_
