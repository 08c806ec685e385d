// Redis's glob patterns (SCAN MATCH, KEYS): '*' any bytes, '?' one byte,
// "[abc]", "[^a]", "[a-z]" one byte of a set, '\' takes the next byte as
// is. Pure.
#ifndef QUORUMKV_DOORS_RESP_GLOB_H_
#define QUORUMKV_DOORS_RESP_GLOB_H_

#include <string>

#include "absl/strings/string_view.h"

namespace quorumkv {

bool GlobMatch(absl::string_view pattern, absl::string_view text);
// The bytes every match starts with ("user:*" gives "user:"): SCAN asks
// the nodes for that prefix only.
std::string GlobLiteralPrefix(absl::string_view pattern);

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_RESP_GLOB_H_
