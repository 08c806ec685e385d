// Tokens on the wire (docs/operations.md, "Tokens"): the check every served
// call makes first when its daemon has --auth_token_file, the answers a
// refused call gets, and the client side that attaches a token to every
// call of a channel.
#ifndef QUORUMKV_COMMON_CALL_AUTH_H_
#define QUORUMKV_COMMON_CALL_AUTH_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/auth_tokens.h"
#include "grpcpp/support/client_interceptor.h"
#include "grpcpp/support/server_callback.h"

namespace quorumkv {

// Checks the token a served call carries. Thread-safe.
class CallAuthorizer {
 public:
  // `tokens` must outlive the authorizer; null: every call is allowed.
  explicit CallAuthorizer(const TokenSet* tokens = nullptr) : tokens_(tokens) {}

  // OK when auth is off or the call's bearer token grants `needed`;
  // otherwise UNAUTHENTICATED or PERMISSION_DENIED (TokenSet::Check).
  absl::Status Check(const grpc::CallbackServerContext& context,
                     Role needed) const;

 private:
  const TokenSet* const tokens_;
};

// Interceptors that send `authorization: Bearer TOKEN` with every call of
// a channel; none when `token` is empty.
std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
BearerTokenInterceptors(const std::string& token);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_CALL_AUTH_H_
