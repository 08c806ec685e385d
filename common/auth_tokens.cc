#include "common/auth_tokens.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"

namespace quorumkv {
namespace {

// Whether `a` equals `b`, reading every byte of the longer whatever they
// hold: the time says nothing about where a guess first differs.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned char differ = a.size() != b.size();
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? a[i] : 0;
    const unsigned char y = i < b.size() ? b[i] : 0;
    differ |= x ^ y;
  }
  return differ == 0;
}

}  // namespace

absl::StatusOr<TokenSet> TokenSet::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--auth_token_file=", path, ": ", text.status().message()));
  }
  return Parse(*text, path);
}

absl::StatusOr<TokenSet> TokenSet::Parse(absl::string_view text,
                                         absl::string_view name) {
  TokenSet set;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    const auto bad = [&](absl::string_view why) {
      // The line itself may hold a token: it is not quoted.
      return absl::InvalidArgumentError(
          absl::StrCat("--auth_token_file=", name, " line ", number, ": ", why));
    };
    if (fields.size() != 2) return bad("want \"ROLE TOKEN\" (ROLE data or admin)");
    Role role;
    if (fields[0] == "data") {
      role = Role::kData;
    } else if (fields[0] == "admin") {
      role = Role::kAdmin;
    } else {
      return bad("the role must be data or admin");
    }
    if (fields[1].size() < 16) return bad("a token needs at least 16 characters");
    set.tokens_.emplace_back(role, std::string(fields[1]));
    if (role == Role::kAdmin && set.own_token_.empty()) {
      set.own_token_ = std::string(fields[1]);
    }
  }
  if (set.own_token_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--auth_token_file=", name,
        " holds no admin token (the daemons use one to call each other)"));
  }
  return set;
}

absl::Status TokenSet::Check(absl::string_view token, Role needed) const {
  if (token.empty()) {
    return absl::UnauthenticatedError(
        "no token: this cluster needs \"authorization: Bearer TOKEN\" "
        "(kvcli --token_file or $KV_TOKEN)");
  }
  bool known = false, admin = false;
  for (const auto& [role, candidate] : tokens_) {
    const bool match = ConstantTimeEquals(token, candidate);
    known |= match;
    admin |= match && role == Role::kAdmin;
  }
  if (!known) return absl::UnauthenticatedError("the token is not valid here");
  if (needed == Role::kAdmin && !admin) {
    return absl::PermissionDeniedError(
        "this needs an admin token; a data token may only read and write");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ClientToken(const std::string& token_file) {
  if (token_file.empty()) {
    const char* env = std::getenv("KV_TOKEN");
    return std::string(env == nullptr ? "" : absl::StripAsciiWhitespace(env));
  }
  absl::StatusOr<std::string> text = ReadFileToString(token_file);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token_file=", token_file, ": ", text.status().message()));
  }
  std::string token(absl::StripAsciiWhitespace(*text));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token_file=", token_file, " is empty"));
  }
  return token;
}

absl::string_view BearerToken(absl::string_view authorization) {
  if (!absl::ConsumePrefix(&authorization, "Bearer ")) return "";
  return absl::StripAsciiWhitespace(authorization);
}

}  // namespace quorumkv
