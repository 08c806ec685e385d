#include "common/daemon_security.h"

#include <utility>

#include "common/status_macros.h"

namespace quorumkv {

absl::StatusOr<DaemonSecurity> DaemonSecurity::Load(
    const std::string& tls_dir, const std::string& auth_token_file) {
  DaemonSecurity security;
  if (!auth_token_file.empty()) {
    ASSIGN_OR_RETURN(TokenSet tokens, TokenSet::Load(auth_token_file));
    security.tokens = std::make_unique<const TokenSet>(std::move(tokens));
  }
  if (!tls_dir.empty()) {
    ASSIGN_OR_RETURN(security.tls, LoadTlsDir(tls_dir));
  }
  return security;
}

ChannelSecurity DaemonSecurity::outgoing() const {
  return ChannelSecurity{tokens == nullptr ? "" : tokens->own_token(), tls};
}

}  // namespace quorumkv
