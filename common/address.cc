#include "common/address.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

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

absl::StatusOr<std::vector<std::string>> ParseAddressList(
    absl::string_view what, absl::string_view list) {
  if (absl::StripAsciiWhitespace(list).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is empty: give HOST:PORT[,HOST:PORT...]"));
  }
  std::vector<std::string> addresses;
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    item = absl::StripAsciiWhitespace(item);
    // "http://host:port/" as copied from a browser: the address is inside.
    for (absl::string_view scheme : {"http://", "https://", "grpc://"}) {
      if (absl::ConsumePrefix(&item, scheme)) {
        absl::ConsumeSuffix(&item, "/");
        break;
      }
    }
    if (item.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": '", list, "' has an empty address (HOST:PORT,HOST:PORT...)"));
    }
    if (absl::Status s = ValidateAddress(what, item); !s.ok()) return s;
    if (std::find(addresses.begin(), addresses.end(), item) != addresses.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": '", item, "' is listed twice"));
    }
    addresses.emplace_back(item);
  }
  return addresses;
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
