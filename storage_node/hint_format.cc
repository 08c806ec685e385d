#include "storage_node/hint_format.h"

#include "absl/strings/str_cat.h"

namespace quorumkv {
namespace {

constexpr char kSeparator = '\0';
constexpr size_t kSequenceBytes = 8;

}  // namespace

std::string HintKeyPrefix(absl::string_view target) {
  std::string prefix(target);
  prefix.push_back(kSeparator);
  return prefix;
}

std::string EncodeHintKey(absl::string_view target, uint64_t sequence) {
  std::string key = HintKeyPrefix(target);
  for (int i = kSequenceBytes - 1; i >= 0; --i) {
    key.push_back(static_cast<char>((sequence >> (8 * i)) & 0xff));
  }
  return key;
}

absl::StatusOr<HintKeyParts> DecodeHintKey(absl::string_view key) {
  if (key.size() < kSequenceBytes + 2) {
    return absl::DataLossError(absl::StrCat(
        "hint key of ", key.size(), " bytes: shorter than a target, a "
        "separator and a sequence"));
  }
  const size_t separator = key.size() - kSequenceBytes - 1;
  if (key[separator] != kSeparator ||
      key.substr(0, separator).find(kSeparator) != absl::string_view::npos) {
    return absl::DataLossError(
        "hint key without a single separator before its sequence");
  }
  HintKeyParts parts;
  parts.target = std::string(key.substr(0, separator));
  for (size_t i = separator + 1; i < key.size(); ++i) {
    parts.sequence = (parts.sequence << 8) | static_cast<uint8_t>(key[i]);
  }
  return parts;
}

absl::StatusOr<ApplyRequest> DecodeHintValue(absl::string_view value) {
  ApplyRequest request;
  if (!request.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(
        absl::StrCat("hint of ", value.size(), " bytes does not parse"));
  }
  if (!request.has_value() || !request.value().has_version()) {
    return absl::DataLossError("hint without a versioned value");
  }
  return request;
}

}  // namespace quorumkv
