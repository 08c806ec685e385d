// Fuzzes the decoders of the rows a storage node keeps (storage_node/record.h):
// any bytes read from disk decode to a record or to DATA_LOSS with a reason,
// never a crash; what decodes re-encodes to the same record, and the header
// decoder agrees with the full one.
#include <cstddef>
#include <cstdint>

#include "storage_node/record.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quorumkv;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<RecordHeader> header = DecodeRecordHeader(bytes);
  absl::StatusOr<VersionedValue> record = DecodeRecord(bytes);
  FuzzCheck(record.ok() == header.ok());
  if (!record.ok()) {
    FuzzCheck(absl::IsDataLoss(record.status()));
    FuzzCheck(!record.status().message().empty());
    FuzzCheck(absl::IsDataLoss(header.status()));
    return 0;
  }
  FuzzCheck(header->tombstone == record->tombstone());
  FuzzCheck(header->wall_ms == record->version().wall_ms());
  FuzzCheck(header->logical == record->version().logical());
  FuzzCheck(header->node_id == record->version().node_id());
  FuzzCheck(header->value_bytes == record->value().size());
  absl::StatusOr<VersionedValue> again = DecodeRecord(EncodeRecord(*record));
  FuzzCheck(again.ok());
  // Compared field by field: a node id read from disk need not be UTF-8,
  // which protobuf would complain of when serializing.
  FuzzCheck(again->tombstone() == record->tombstone());
  FuzzCheck(again->value() == record->value());
  FuzzCheck(again->version().wall_ms() == record->version().wall_ms());
  FuzzCheck(again->version().logical() == record->version().logical());
  FuzzCheck(again->version().node_id() == record->version().node_id());

  uint32_t partition = 0;
  absl::string_view key;
  if (DecodeRowKey(bytes, &partition, &key)) {
    FuzzCheck(EncodeRowKey(partition, key) == bytes);
  }
  return 0;
}
