// Command-line flags as every QuorumKV binary takes them (docs/operations.md):
// absl's `--name=value` flags, parsed here rather than by absl's parser so
// that an unknown flag or a bad value is one line naming it and exit 2, not
// absl's exit 1.
#ifndef QUORUMKV_COMMON_FLAGS_H_
#define QUORUMKV_COMMON_FLAGS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quorumkv {

// Sets the flags given in `argv` (`--name=value`, `--name value`, a bare
// `--name` for a boolean) and returns every other argument in order; after
// "--" all are returned. `passes(arg)` names "--" arguments that are not
// flags (a command's own options). INVALID_ARGUMENT naming an unknown flag
// or a bad value; `program` goes into the hint.
absl::StatusOr<std::vector<std::string>> ParseFlags(
    int argc, char** argv, absl::string_view program,
    const std::function<bool(absl::string_view)>& passes = {});

// One line per flag defined in a source file whose path ends with one of
// `files`: "  --name=DEFAULT  help", sorted by name.
std::string FlagsHelp(const std::vector<std::string>& files);

// "--name=value" for each such flag, as it is now: the effective
// configuration, logged once at start.
std::string FlagValues(const std::vector<std::string>& files);

}  // namespace quorumkv

#endif  // QUORUMKV_COMMON_FLAGS_H_
