#include "common/process.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <utility>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"

namespace quorumkv {

void ParseDaemonFlags(int argc, char** argv, const char* usage) {
  // Lock-order checking records a graph edge on every lock taken while
  // another is held: a few percent of a node's CPU. Tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(usage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    std::vector<std::string> extra(positional.begin() + 1, positional.end());
    std::fprintf(stderr,
                 "%s: unexpected arguments: %s (flags are --name=value; see "
                 "--help)\n",
                 argv[0], absl::StrJoin(extra, " ").c_str());
    std::exit(2);
  }
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
