#include "common/address.h"

#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace quorumkv {

absl::Status ValidateAddress(absl::string_view what, absl::string_view address,
                             bool allow_port_zero) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": '", address, "' is not a HOST:PORT address (", why, ")"));
  };
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return bad("no ':PORT'");
  absl::string_view host = address.substr(0, colon);
  if (host.empty()) return bad("empty host");
  uint32_t port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port > 65535 || (port == 0 && !allow_port_zero)) {
    return bad(allow_port_zero ? "port must be 0..65535"
                               : "port must be 1..65535");
  }
  return absl::OkStatus();
}

bool IsWildcardAddress(absl::string_view address) {
  absl::string_view host = address.substr(0, address.rfind(':'));
  return host == "0.0.0.0" || host == "[::]" || host == "::" ||
         host == "[::0]" || host == "*";
}

bool IsLoopbackAddress(absl::string_view address) {
  absl::string_view host = address.substr(0, address.rfind(':'));
  return absl::StartsWith(host, "127.") || host == "localhost" ||
         host == "[::1]" || host == "::1";
}

}  // namespace quorumkv
