// Bearer tokens (docs/operations.md, "Tokens"): what --auth_token_file
// holds and how a server checks the token a call carries.
//
// The file holds one token per line as "ROLE TOKEN", ROLE `data` (reads and
// writes, and reading the cluster's state) or `admin` (everything,
// decommission and plan included, and the daemons' own calls to each
// other); blank lines and lines starting with '#' are skipped. Clients send
// `authorization: Bearer TOKEN` metadata.
//
// Tokens are compared in constant time and never logged or put in an
// error message. Thread-safe once loaded (immutable).
#ifndef QUORUMKV_COMMON_AUTH_TOKENS_H_
#define QUORUMKV_COMMON_AUTH_TOKENS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quorumkv {

enum class Role { kData, kAdmin };

class TokenSet {
 public:
  // Reads `path`; INVALID_ARGUMENT naming the file and line when a line is
  // not "data TOKEN" or "admin TOKEN", or when it holds no admin token
  // (the daemons need one to call each other).
  static absl::StatusOr<TokenSet> Load(const std::string& path);
  // The same from text; `name` stands for the file in errors.
  static absl::StatusOr<TokenSet> Parse(absl::string_view text,
                                        absl::string_view name);

  // OK when `token` grants `needed`: UNAUTHENTICATED when it is empty or
  // unknown, PERMISSION_DENIED when it is a data token and `needed` is
  // admin. Takes the same time whichever token, or part of one, matches.
  absl::Status Check(absl::string_view token, Role needed) const;

  // An admin token: what this daemon presents to the others.
  const std::string& own_token() const { return own_token_; }

 private:
  std::vector<std::pair<Role, std::string>> tokens_;
  std::string own_token_;
};

// The token a client tool sends: the contents of `token_file` (the token
// alone, surrounding whitespace ignored) when it is given, otherwise
// $KV_TOKEN (the token itself), otherwise none (empty).
// INVALID_ARGUMENT naming --token_file when it cannot be read or is empty.
absl::StatusOr<std::string> ClientToken(const std::string& token_file);

// The token of an `authorization: Bearer TOKEN` metadata value; empty when
// the value is not of that form.
absl::string_view BearerToken(absl::string_view authorization);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_AUTH_TOKENS_H_
