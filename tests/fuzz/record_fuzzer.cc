// Fuzzes the decoders of the rows a storage node keeps (storage_node/record.h):
// any bytes read from disk decode to a record or to DATA_LOSS with a reason,
// never a crash; what decodes re-encodes to the same record, and the header
// decoder agrees with the full one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "storage_node/record.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quorumkv;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<RecordHeader> header = DecodeRecordHeader(bytes);
  absl::StatusOr<VersionedValue> record = DecodeRecord(bytes);
  Check(record.ok() == header.ok());
  if (!record.ok()) {
    Check(absl::IsDataLoss(record.status()));
    Check(!record.status().message().empty());
    Check(absl::IsDataLoss(header.status()));
    return 0;
  }
  Check(header->tombstone == record->tombstone());
  Check(header->wall_ms == record->version().wall_ms());
  Check(header->logical == record->version().logical());
  Check(header->node_id == record->version().node_id());
  Check(header->value_bytes == record->value().size());
  absl::StatusOr<VersionedValue> again = DecodeRecord(EncodeRecord(*record));
  Check(again.ok());
  Check(again->SerializeAsString() == record->SerializeAsString());

  uint32_t partition = 0;
  absl::string_view key;
  if (DecodeRowKey(bytes, &partition, &key)) {
    Check(EncodeRowKey(partition, key) == bytes);
  }
  return 0;
}
