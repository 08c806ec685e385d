#include "common/process.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/flags.h"
#include "common/logging.h"
#include "common/version.h"

ABSL_FLAG(std::string, log_level, "INFO",
          "least severe log lines kept: INFO, WARNING or ERROR");

namespace quorumkv {

namespace {

absl::StatusOr<LogSeverity> ParseLogLevel(absl::string_view level) {
  if (level == "INFO") return LogSeverity::INFO;
  if (level == "WARNING") return LogSeverity::WARNING;
  if (level == "ERROR") return LogSeverity::ERROR;
  return absl::InvalidArgumentError(absl::StrCat(
      "bad value for --log_level: '", level, "' (INFO, WARNING or ERROR)"));
}

[[noreturn]] void Exit(int code, const std::string& out) {
  std::fputs(out.c_str(), code == 0 ? stdout : stderr);
  ExitProcess(code);
}

}  // namespace

void ParseProgramFlags(int argc, char** argv, const char* name,
                       const char* usage, const char* main_file) {
  // Lock-order checking records a graph edge on every lock taken while
  // another is held: a few percent of a node's CPU. Tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::vector<std::string> files = {main_file, "common/process.cc"};
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h" || arg == "--helpfull") {
      Exit(0, absl::StrCat("usage: ", usage, "\n\nflags:\n", FlagsHelp(files)));
    }
    if (arg == "--version") Exit(0, VersionLine(name) + "\n");
  }
  absl::StatusOr<std::vector<std::string>> positional =
      ParseFlags(argc, argv, name);
  if (!positional.ok()) {
    Exit(2, absl::StrCat(name, ": ", positional.status().message(), "\n"));
  }
  if (!positional->empty()) {
    Exit(2, absl::StrCat(name, ": unexpected arguments: ",
                         absl::StrJoin(*positional, " "),
                         " (flags are --name=value; see --help)\n"));
  }
  absl::StatusOr<LogSeverity> level = ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) Exit(2, absl::StrCat(name, ": ", level.status().message(), "\n"));
  SetMinLogSeverity(*level);
}

void ParseDaemonFlags(int argc, char** argv, const char* name,
                      const char* usage, const char* main_file) {
  ParseProgramFlags(argc, argv, name, usage, main_file);
  QKV_LOG(INFO) << VersionLine(name) << " configuration: "
                << FlagValues({main_file, "common/process.cc"});
}

void LogDaemonEvent(const char* name, const char* event) {
  QKV_LOG(INFO) << name << " " << event;
}

void ExitProcess(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(code);
}

void OnTerminationSignal(std::function<void()> on_signal) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([signals, on_signal = std::move(on_signal)] {
    int received = 0;
    sigwait(&signals, &received);
    on_signal();
  }).detach();
}

}  // namespace quorumkv
