// Fuzzes the decoders of stored hints (storage_node/hint_format.h): the
// first input byte splits the rest into a key and a value. Any key decodes
// to its parts, which encode back to the same key, or to DATA_LOSS with a
// reason; any value to a versioned ApplyRequest or DATA_LOSS.
#include <cstddef>
#include <cstdint>

#include "storage_node/hint_format.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quorumkv;
  if (size == 0) return 0;
  const absl::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t split = std::min<size_t>(data[0], rest.size());
  const absl::string_view key = rest.substr(0, split);
  const absl::string_view value = rest.substr(split);

  absl::StatusOr<HintKeyParts> parts = DecodeHintKey(key);
  if (parts.ok()) {
    FuzzCheck(!parts->target.empty());
    FuzzCheck(EncodeHintKey(parts->target, parts->sequence) == key);
    FuzzCheck(EncodeHintKey(parts->target, parts->sequence)
              .rfind(HintKeyPrefix(parts->target), 0) == 0);
  } else {
    FuzzCheck(absl::IsDataLoss(parts.status()));
    FuzzCheck(!parts.status().message().empty());
  }

  absl::StatusOr<ApplyRequest> request = DecodeHintValue(value);
  if (request.ok()) {
    FuzzCheck(request->has_value() && request->value().has_version());
  } else {
    FuzzCheck(absl::IsDataLoss(request.status()));
    FuzzCheck(!request.status().message().empty());
  }
  return 0;
}
