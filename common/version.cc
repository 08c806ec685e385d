#include "common/version.h"

#include "absl/strings/str_cat.h"

namespace quorumkv {

const char* ProjectVersion() { return QKV_VERSION; }
const char* BuildType() { return QKV_BUILD_TYPE; }

std::string VersionLine(const std::string& program) {
  return absl::StrCat(program, " ", ProjectVersion(), " (", BuildType(), ")");
}

}  // namespace quorumkv
