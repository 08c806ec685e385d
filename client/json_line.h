// Reading the JSON lines `kvcli export` writes, for `kvcli import`: one
// flat object per line whose values are strings or integers. Anything
// else is refused with a message that says where.
#ifndef QUORUMKV_CLIENT_JSON_LINE_H_
#define QUORUMKV_CLIENT_JSON_LINE_H_

#include <cstdint>
#include <map>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quorumkv {

using JsonScalar = std::variant<std::string, int64_t>;

// The members of the object on `line`. INVALID_ARGUMENT naming the column
// for anything but a flat object of strings and integers.
absl::StatusOr<std::map<std::string, JsonScalar>> ParseFlatJsonObject(
    absl::string_view line);

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_JSON_LINE_H_
