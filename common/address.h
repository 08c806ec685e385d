// host:port parsing for flags and registrations.
#ifndef QUORUMKV_COMMON_ADDRESS_H_
#define QUORUMKV_COMMON_ADDRESS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quorumkv {

// INVALID_ARGUMENT naming `what` (a flag name, say) unless `address` is
// HOST:PORT with a non-empty host and a port in 1..65535 (0 too when
// `allow_port_zero`, for listening on a port the system picks).
absl::Status ValidateAddress(absl::string_view what, absl::string_view address,
                             bool allow_port_zero = false);

// The addresses of a list flag ("host:port[,host:port...]", as --master
// and --etcd take them). INVALID_ARGUMENT naming `what` for an empty list,
// or an empty, malformed or repeated address.
absl::StatusOr<std::vector<std::string>> ParseAddressList(
    absl::string_view what, absl::string_view list);

// Whether `address` (a valid HOST:PORT) names every interface (0.0.0.0,
// [::], ::) rather than one that others can connect to.
bool IsWildcardAddress(absl::string_view address);

// Whether `address` (a valid HOST:PORT) is reachable from this machine only:
// 127.0.0.0/8, [::1] or localhost.
bool IsLoopbackAddress(absl::string_view address);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_ADDRESS_H_
