#include "common/file_util.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace quorumkv {

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    const std::string why =
        absl::StrCat("cannot read it: ", std::strerror(error));
    return error == ENOENT ? absl::NotFoundError(why)
                           : absl::FailedPreconditionError(why);
  }
  std::stringstream text;
  text << in.rdbuf();
  // Reading a directory opens but fails on the first read.
  if (in.bad() || (in.fail() && !in.eof())) {
    return absl::FailedPreconditionError(
        "cannot read it: not a regular file");
  }
  return text.str();
}

}  // namespace quorumkv
