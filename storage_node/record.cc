#include "storage_node/record.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/hlc.h"

namespace quorumkv {
namespace {

constexpr uint8_t kFormatV1 = 1;
constexpr uint8_t kFormatV2 = 2;
constexpr uint8_t kTombstoneFlag = 1;
// format + flags + wall_ms + logical + node id length.
constexpr size_t kHeaderBytes = 1 + 1 + 8 + 4 + 2;
// Format 2's expiry register: expires_at_ms + wall_ms + logical + node id
// length.
constexpr size_t kExpiryBytes = 8 + 8 + 4 + 2;

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
  // Format 1 unless the expiry register says more than "never, as of the
  // row's own version".
  const bool v2 = value.expires_at_ms() != 0 ||
                  (value.has_expiry_version() &&
                   CompareVersions(value.expiry_version(), value.version()) != 0);
  const std::string& expiry_id = value.expiry_version().node_id();
  std::string out;
  out.reserve(kHeaderBytes + node_id.size() + value.value().size() +
              (v2 ? kExpiryBytes + expiry_id.size() : 0));
  out.push_back(static_cast<char>(v2 ? kFormatV2 : kFormatV1));
  out.push_back(static_cast<char>(value.tombstone() ? kTombstoneFlag : 0));
  PutLittleEndian<uint64_t>(&out, value.version().wall_ms());
  PutLittleEndian<uint32_t>(&out, value.version().logical());
  PutLittleEndian<uint16_t>(&out, static_cast<uint16_t>(node_id.size()));
  out.append(node_id);
  if (v2) {
    const Version& expiry = value.has_expiry_version() ? value.expiry_version()
                                                       : value.version();
    PutLittleEndian<uint64_t>(&out, static_cast<uint64_t>(value.expires_at_ms()));
    PutLittleEndian<uint64_t>(&out, expiry.wall_ms());
    PutLittleEndian<uint32_t>(&out, expiry.logical());
    PutLittleEndian<uint16_t>(&out, static_cast<uint16_t>(expiry.node_id().size()));
    out.append(expiry.node_id());
  }
  out.append(value.value());
  return out;
}

absl::StatusOr<RecordHeader> DecodeRecordHeader(absl::string_view bytes) {
  if (bytes.size() < kHeaderBytes) return Corrupt("shorter than its header");
  const uint8_t format = static_cast<uint8_t>(bytes[0]);
  if (format != kFormatV1 && format != kFormatV2) {
    return Corrupt(absl::StrCat("unknown format ", static_cast<int>(format)));
  }
  RecordHeader header;
  header.tombstone = (static_cast<uint8_t>(bytes[1]) & kTombstoneFlag) != 0;
  header.wall_ms = GetLittleEndian<uint64_t>(bytes.data() + 2);
  header.logical = GetLittleEndian<uint32_t>(bytes.data() + 10);
  const uint16_t id_len = GetLittleEndian<uint16_t>(bytes.data() + 14);
  if (bytes.size() < kHeaderBytes + id_len) return Corrupt("node id truncated");
  header.node_id = bytes.substr(kHeaderBytes, id_len);
  size_t used = kHeaderBytes + id_len;
  if (format == kFormatV1) {
    header.expiry_wall_ms = header.wall_ms;
    header.expiry_logical = header.logical;
    header.expiry_node_id = header.node_id;
  } else {
    if (bytes.size() < used + kExpiryBytes) return Corrupt("expiry truncated");
    const char* p = bytes.data() + used;
    header.expires_at_ms = static_cast<int64_t>(GetLittleEndian<uint64_t>(p));
    header.expiry_wall_ms = GetLittleEndian<uint64_t>(p + 8);
    header.expiry_logical = GetLittleEndian<uint32_t>(p + 16);
    const uint16_t expiry_id_len = GetLittleEndian<uint16_t>(p + 20);
    used += kExpiryBytes;
    if (bytes.size() < used + expiry_id_len) {
      return Corrupt("expiry node id truncated");
    }
    header.expiry_node_id = bytes.substr(used, expiry_id_len);
    used += expiry_id_len;
  }
  header.value_bytes = bytes.size() - used;
  return header;
}

namespace {
int Compare(const Version& version, uint64_t wall_ms, uint32_t logical,
            absl::string_view node_id) {
  if (version.wall_ms() != wall_ms) return version.wall_ms() < wall_ms ? -1 : 1;
  if (version.logical() != logical) return version.logical() < logical ? -1 : 1;
  const int c = absl::string_view(version.node_id()).compare(node_id);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}
}  // namespace

int CompareToStored(const Version& version, const RecordHeader& stored) {
  return Compare(version, stored.wall_ms, stored.logical, stored.node_id);
}

int CompareToStoredExpiry(const Version& version, const RecordHeader& stored) {
  return Compare(version, stored.expiry_wall_ms, stored.expiry_logical,
                 stored.expiry_node_id);
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
  if (header->expires_at_ms != 0 ||
      CompareToStoredExpiry(value.version(), *header) != 0) {
    value.set_expires_at_ms(header->expires_at_ms);
    Version* expiry = value.mutable_expiry_version();
    expiry->set_wall_ms(header->expiry_wall_ms);
    expiry->set_logical(header->expiry_logical);
    expiry->set_node_id(std::string(header->expiry_node_id));
  }
  value.set_value(std::string(bytes.substr(bytes.size() - header->value_bytes)));
  return value;
}

}  // namespace quorumkv
