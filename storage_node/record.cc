#include "storage_node/record.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace quorumkv {
namespace {

constexpr uint8_t kFormatV1 = 1;
constexpr uint8_t kTombstoneFlag = 1;
// format + flags + wall_ms + logical + node id length.
constexpr size_t kHeaderBytes = 1 + 1 + 8 + 4 + 2;

template <typename T>
void PutLittleEndian(std::string* out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) {
    out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

template <typename T>
T GetLittleEndian(const char* in) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(static_cast<uint8_t>(in[i])) << (8 * i);
  }
  return value;
}

absl::Status Corrupt(absl::string_view why) {
  return absl::DataLossError(absl::StrCat("corrupt record: ", why));
}

}  // namespace

std::string EncodeRowKey(uint32_t partition, absl::string_view key) {
  std::string row(4, '\0');
  for (int i = 0; i < 4; ++i) {
    row[i] = static_cast<char>((partition >> (8 * (3 - i))) & 0xff);
  }
  row.append(key.data(), key.size());
  return row;
}

bool DecodeRowKey(absl::string_view row_key, uint32_t* partition,
                  absl::string_view* key) {
  if (row_key.size() < 4) return false;
  uint32_t p = 0;
  for (int i = 0; i < 4; ++i) p = (p << 8) | static_cast<uint8_t>(row_key[i]);
  *partition = p;
  *key = row_key.substr(4);
  return true;
}

std::string EncodeRecord(const VersionedValue& value) {
  const std::string& node_id = value.version().node_id();
  std::string out;
  out.reserve(kHeaderBytes + node_id.size() + value.value().size());
  out.push_back(static_cast<char>(kFormatV1));
  out.push_back(static_cast<char>(value.tombstone() ? kTombstoneFlag : 0));
  PutLittleEndian<uint64_t>(&out, value.version().wall_ms());
  PutLittleEndian<uint32_t>(&out, value.version().logical());
  PutLittleEndian<uint16_t>(&out, static_cast<uint16_t>(node_id.size()));
  out.append(node_id);
  out.append(value.value());
  return out;
}

absl::StatusOr<RecordHeader> DecodeRecordHeader(absl::string_view bytes) {
  if (bytes.size() < kHeaderBytes) return Corrupt("shorter than its header");
  if (static_cast<uint8_t>(bytes[0]) != kFormatV1) {
    return Corrupt(absl::StrCat("unknown format ",
                                static_cast<int>(static_cast<uint8_t>(bytes[0]))));
  }
  RecordHeader header;
  header.tombstone = (static_cast<uint8_t>(bytes[1]) & kTombstoneFlag) != 0;
  header.wall_ms = GetLittleEndian<uint64_t>(bytes.data() + 2);
  header.logical = GetLittleEndian<uint32_t>(bytes.data() + 10);
  const uint16_t id_len = GetLittleEndian<uint16_t>(bytes.data() + 14);
  if (bytes.size() < kHeaderBytes + id_len) return Corrupt("node id truncated");
  header.node_id = bytes.substr(kHeaderBytes, id_len);
  header.value_bytes = bytes.size() - kHeaderBytes - id_len;
  return header;
}

int CompareToStored(const Version& version, const RecordHeader& stored) {
  if (version.wall_ms() != stored.wall_ms) {
    return version.wall_ms() < stored.wall_ms ? -1 : 1;
  }
  if (version.logical() != stored.logical) {
    return version.logical() < stored.logical ? -1 : 1;
  }
  return absl::string_view(version.node_id()).compare(stored.node_id);
}

absl::StatusOr<VersionedValue> DecodeRecord(absl::string_view bytes) {
  auto header = DecodeRecordHeader(bytes);
  if (!header.ok()) return header.status();
  VersionedValue value;
  value.set_tombstone(header->tombstone);
  Version* version = value.mutable_version();
  version->set_wall_ms(header->wall_ms);
  version->set_logical(header->logical);
  version->set_node_id(std::string(header->node_id));
  value.set_value(std::string(bytes.substr(bytes.size() - header->value_bytes)));
  return value;
}

}  // namespace quorumkv
