#include "doors/client_flags.h"

#include "absl/strings/match.h"

namespace quorumkv {
namespace {

// Eight bytes no text value starts with: NUL, then a name and a version.
constexpr absl::string_view kMagic("\0qkvflg1", 8);

}  // namespace

std::string WithClientFlags(uint32_t flags, absl::string_view value) {
  if (flags == 0) return std::string(value);
  std::string out;
  out.reserve(kClientFlagsOverhead + value.size());
  out.append(kMagic.data(), kMagic.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((flags >> shift) & 0xff));
  }
  out.append(value.data(), value.size());
  return out;
}

FlaggedValue SplitClientFlags(absl::string_view stored) {
  if (stored.size() < kClientFlagsOverhead ||
      !absl::StartsWith(stored, kMagic)) {
    return {0, stored};
  }
  uint32_t flags = 0;
  for (size_t i = kMagic.size(); i < kClientFlagsOverhead; ++i) {
    flags = (flags << 8) | static_cast<unsigned char>(stored[i]);
  }
  return {flags, stored.substr(kClientFlagsOverhead)};
}

}  // namespace quorumkv
