// What a daemon's --tls_dir and --auth_token_file give it (docs/operations.md,
// "Security"): the tokens it checks on the calls it serves, the
// certificate its servers present and check clients against, and the
// credentials it calls the other daemons with.
//
// Thread safety: immutable once loaded; shared by every part of a daemon.
#ifndef QUORUMKV_COMMON_DAEMON_SECURITY_H_
#define QUORUMKV_COMMON_DAEMON_SECURITY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth_tokens.h"
#include "common/grpc_util.h"
#include "common/tls.h"

namespace quorumkv {

struct DaemonSecurity {
  // Loads the flags' files; either flag may be empty (off).
  // INVALID_ARGUMENT naming the flag, the file and what is wrong.
  static absl::StatusOr<DaemonSecurity> Load(const std::string& tls_dir,
                                             const std::string& auth_token_file);

  // Null without --auth_token_file: every call is allowed.
  std::unique_ptr<const TokenSet> tokens;
  // Null without --tls_dir: plaintext.
  std::shared_ptr<const TlsConfig> tls;

  // How this daemon calls the others: its admin token, its certificate.
  ChannelSecurity outgoing() const;
};

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_DAEMON_SECURITY_H_
