#include "common/flags.h"

#include <optional>

#include <algorithm>

#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/strings/str_join.h"

namespace quorumkv {
namespace {

// The flags defined in files ending with one of `files`, by name.
std::vector<absl::CommandLineFlag*> FlagsFrom(
    const std::vector<std::string>& files) {
  std::vector<absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    for (absl::string_view file : files) {
      // absl reports file names without their leading slashes.
      file.remove_prefix(std::min(file.find_first_not_of('/'), file.size()));
      if (absl::EndsWith(flag->Filename(), file)) {
        flags.push_back(flag);
        break;
      }
    }
  }
  std::sort(flags.begin(), flags.end(),
            [](absl::CommandLineFlag* a, absl::CommandLineFlag* b) {
              return a->Name() < b->Name();
            });
  return flags;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseFlags(
    int argc, char** argv, absl::string_view program,
    const std::function<bool(absl::string_view)>& passes) {
  std::vector<std::string> positional;
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (!flags_done && passes && passes(arg)) {
      positional.emplace_back(arg);
      continue;
    }
    if (flags_done || !absl::StartsWith(arg, "--") || arg.size() == 2) {
      if (arg == "--" && !flags_done) {
        flags_done = true;
      } else {
        positional.emplace_back(arg);
      }
      continue;
    }
    arg.remove_prefix(2);
    const size_t eq = arg.find('=');
    absl::string_view name = arg.substr(0, eq);
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    // absl's own flags (--flagfile, --fromenv, ...) are not ours to offer.
    if (flag == nullptr || absl::StrContains(flag->Filename(), "absl/")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag --", name, " (see ", program, " --help)"));
    }
    std::string value;
    if (eq != absl::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
    } else if (flag->IsOfType<bool>()) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " needs a value"));
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      if (flag->IsOfType<absl::Duration>()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "bad value for --", name, ": '", value,
            "' is not a duration (a number and a unit, like 500ms, 5s, 2m)"));
      }
      if (flag->IsOfType<std::optional<int>>() || flag->IsOfType<int>()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "bad value for --", name, ": '", value, "' is not a whole number"));
      }
      return absl::InvalidArgumentError(
          absl::StrCat("bad value for --", name, ": ", error));
    }
  }
  return positional;
}

std::string FlagsHelp(const std::vector<std::string>& files) {
  std::string out;
  for (absl::CommandLineFlag* flag : FlagsFrom(files)) {
    absl::StrAppend(&out, "  --", flag->Name(), "=", flag->DefaultValue(),
                    "\n      ", flag->Help(), "\n");
  }
  return out;
}

std::string FlagValues(const std::vector<std::string>& files) {
  std::vector<std::string> values;
  for (absl::CommandLineFlag* flag : FlagsFrom(files)) {
    values.push_back(absl::StrCat("--", flag->Name(), "=", flag->CurrentValue()));
  }
  return absl::StrJoin(values, " ");
}

}  // namespace quorumkv
