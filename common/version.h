// The project's version and build type, fixed when it is built.
#ifndef QUORUMKV_COMMON_VERSION_H_
#define QUORUMKV_COMMON_VERSION_H_

#include <string>

namespace quorumkv {

// "0.3.0".
const char* ProjectVersion();
// CMake's build type: "RelWithDebInfo", "Debug", ...
const char* BuildType();
// "NAME 0.3.0 (RelWithDebInfo)", as `--version` prints it.
std::string VersionLine(const std::string& program);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_VERSION_H_
