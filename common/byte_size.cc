#include "common/byte_size.h"

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace quorumkv {
namespace {

struct Unit {
  const char* name;
  uint64_t factor;
};
// Longest suffixes first, so "KiB" is not read as "B".
constexpr Unit kUnits[] = {{"KiB", 1ull << 10}, {"MiB", 1ull << 20},
                           {"GiB", 1ull << 30}, {"TiB", 1ull << 40},
                           {"KB", 1ull << 10},  {"MB", 1ull << 20},
                           {"GB", 1ull << 30},  {"TB", 1ull << 40},
                           {"B", 1}};

}  // namespace

absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text) {
  absl::string_view number = absl::StripAsciiWhitespace(text);
  uint64_t factor = 1;
  for (const Unit& unit : kUnits) {
    if (absl::EndsWithIgnoreCase(number, unit.name)) {
      number.remove_suffix(absl::string_view(unit.name).size());
      factor = unit.factor;
      break;
    }
  }
  uint64_t value = 0;
  if (number.empty() || !absl::SimpleAtoi(number, &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", text, "' is not a byte size (examples: 100, 512KB, 64MB, 1GB)"));
  }
  if (value > std::numeric_limits<uint64_t>::max() / factor) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is too large"));
  }
  return value * factor;
}

absl::StatusOr<uint64_t> ParseByteRate(absl::string_view text) {
  absl::string_view size = absl::StripAsciiWhitespace(text);
  if (size == "0") return 0;
  if (!absl::ConsumeSuffix(&size, "/s")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", text, "' is not a rate (examples: 64MB/s, 500KB/s; 0: unlimited)"));
  }
  return ParseByteSize(size);
}

std::string FormatByteSize(uint64_t bytes) {
  for (const Unit& unit : {Unit{"TB", 1ull << 40}, Unit{"GB", 1ull << 30},
                           Unit{"MB", 1ull << 20}, Unit{"KB", 1ull << 10}}) {
    if (bytes != 0 && bytes % unit.factor == 0) {
      return absl::StrCat(bytes / unit.factor, unit.name);
    }
  }
  return absl::StrCat(bytes);
}

bool AbslParseFlag(absl::string_view text, ByteSize* size, std::string* error) {
  absl::StatusOr<uint64_t> parsed = ParseByteSize(text);
  if (!parsed.ok()) {
    *error = std::string(parsed.status().message());
    return false;
  }
  size->bytes = *parsed;
  return true;
}

std::string AbslUnparseFlag(ByteSize size) { return FormatByteSize(size.bytes); }

bool AbslParseFlag(absl::string_view text, ByteRate* rate, std::string* error) {
  absl::StatusOr<uint64_t> parsed = ParseByteRate(text);
  if (!parsed.ok()) {
    *error = std::string(parsed.status().message());
    return false;
  }
  rate->bytes_per_sec = *parsed;
  return true;
}

std::string AbslUnparseFlag(ByteRate rate) {
  return rate.bytes_per_sec == 0 ? "0"
                                 : FormatByteSize(rate.bytes_per_sec) + "/s";
}

}  // namespace quorumkv
