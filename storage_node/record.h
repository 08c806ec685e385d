// Encoding of what a storage node keeps in RocksDB.
//
// PART OF THE ON-DISK FORMAT; DO NOT CHANGE (add a new format byte instead).
//
// Row key:   partition (4 bytes, big-endian, so one partition's rows are
//            contiguous and can be streamed in order) + user key.
// Row value: format byte (1) + flags (bit 0: tombstone) + wall_ms (8 bytes,
//            little-endian) + logical (4, little-endian) + node id length (2,
//            little-endian) + node id + value bytes.
// Format 2, for rows whose expiry register (proto/replica.proto,
// VersionedValue) is not (their version, never): the format 1 header, then
//            expires_at_ms (8, little-endian) + the expiry version as
//            wall_ms (8) + logical (4) + node id length (2) + node id,
//            then the value bytes. Format 1 rows stay as they are.
#ifndef QUORUMKV_STORAGE_NODE_RECORD_H_
#define QUORUMKV_STORAGE_NODE_RECORD_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/replica.pb.h"

namespace quorumkv {

std::string EncodeRowKey(uint32_t partition, absl::string_view key);
// Splits a row key; false when it is shorter than the partition prefix.
bool DecodeRowKey(absl::string_view row_key, uint32_t* partition,
                  absl::string_view* key);

std::string EncodeRecord(const VersionedValue& value);
// DATA_LOSS when `bytes` is not a record of a known format.
absl::StatusOr<VersionedValue> DecodeRecord(absl::string_view bytes);

// Reads only the header, copying nothing: how a write learns the version
// it must beat, and the size it replaces, without decoding the value.
struct RecordHeader {
  bool tombstone = false;
  uint64_t wall_ms = 0;
  uint32_t logical = 0;
  absl::string_view node_id;  // points into the decoded bytes
  size_t value_bytes = 0;
  // The expiry register: when the value expires (Unix ms, 0: never) and the
  // version of the write that set it; for a format 1 row, (the row's own
  // version, never).
  int64_t expires_at_ms = 0;
  uint64_t expiry_wall_ms = 0;
  uint32_t expiry_logical = 0;
  absl::string_view expiry_node_id;  // points into the decoded bytes
};
absl::StatusOr<RecordHeader> DecodeRecordHeader(absl::string_view bytes);

// <0, 0, >0 as `version` is older than, equal to, newer than the stored
// one; the order of CompareVersions (common/hlc.h).
int CompareToStored(const Version& version, const RecordHeader& stored);
// The same for the stored row's expiry register.
int CompareToStoredExpiry(const Version& version, const RecordHeader& stored);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_RECORD_H_
