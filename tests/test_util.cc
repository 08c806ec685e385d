#include "tests/test_util.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>


#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace quorumkv {

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));  // between polls, not a wait
  }
  return true;
}

TempDir::TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern = absl::StrCat(base && *base ? base : "/tmp",
                                     "/quorumkv-test-XXXXXX");
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

namespace {

// Binds 127.0.0.1:`port` (0: any); returns the bound port, or 0 on failure.
int BindLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  int bound = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    bound = ntohs(addr.sin_port);
  }
  close(fd);
  return bound;
}

}  // namespace

int PickFreePort() { return BindLoopback(0); }

bool PortIsFree(int port) { return BindLoopback(port) == port; }

}  // namespace quorumkv

namespace quorumkv {

absl::StatusOr<HttpResult> HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  timeval limit{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to port ", port));
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (send(fd, request.data(), request.size(), 0) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("send failed");
  }
  std::string response;
  char buffer[16384];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof buffer, 0)) > 0) response.append(buffer, n);
  close(fd);
  if (n < 0) return absl::DeadlineExceededError("no complete answer in 5 s");
  const size_t header_end = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || header_end == std::string::npos) {
    return absl::InternalError(absl::StrCat("not an HTTP answer: ", response));
  }
  HttpResult result;
  result.code = std::atoi(response.c_str() + response.find(' ') + 1);
  const std::string headers = absl::AsciiStrToLower(response.substr(0, header_end));
  const size_t type = headers.find("\r\ncontent-type: ");
  if (type != std::string::npos) {
    const size_t start = type + strlen("\r\ncontent-type: ");
    result.content_type = headers.substr(start, headers.find("\r\n", start) - start);
  }
  result.body = response.substr(header_end + 4);
  return result;
}

absl::StatusOr<std::map<std::string, double>> ParsePrometheusText(
    const std::string& text) {
  std::map<std::string, double> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) {
      if (!absl::StartsWith(line, "# HELP ") && !absl::StartsWith(line, "# TYPE ")) {
        return absl::InvalidArgumentError(absl::StrCat("bad comment: ", line));
      }
      continue;
    }
    const size_t space = line.rfind(' ');
    double value = 0;
    const absl::string_view value_text =
        space == absl::string_view::npos ? "" : line.substr(space + 1);
    if (!absl::SimpleAtod(value_text, &value) &&
        value_text != "+Inf" && value_text != "-Inf" && value_text != "NaN") {
      return absl::InvalidArgumentError(absl::StrCat("bad sample: ", line));
    }
    const absl::string_view key = line.substr(0, space);
    const size_t brace = key.find('{');
    const absl::string_view name = key.substr(0, brace);
    if (name.empty() || !absl::StartsWith(name, "quorumkv_") ||
        (brace != absl::string_view::npos && !absl::EndsWith(key, "}"))) {
      return absl::InvalidArgumentError(absl::StrCat("bad sample: ", line));
    }
    if (!samples.emplace(std::string(key), value).second) {
      return absl::InvalidArgumentError(absl::StrCat("sample twice: ", line));
    }
  }
  return samples;
}

double SumSamples(const std::map<std::string, double>& samples,
                  const std::string& name,
                  const std::vector<std::string>& labels) {
  double sum = 0;
  for (const auto& [key, value] : samples) {
    if (key != name && !absl::StartsWith(key, name + "{")) continue;
    bool all = true;
    for (const std::string& label : labels) {
      all = all && absl::StrContains(key, label);
    }
    if (all) sum += value;
  }
  return sum;
}

absl::StatusOr<pid_t> SpawnProcess(const std::vector<std::string>& args,
                                   const std::string& log) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int error =
      posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", argv[0], ": ",
                                            strerror(error)));
  }
  return pid;
}

void KillProcess(pid_t* pid) {
  if (*pid <= 0) return;
  kill(*pid, SIGKILL);
  waitpid(*pid, nullptr, 0);
  *pid = -1;
}

int PickLocalClusterBasePort() {
  auto all_free = [](int base) {
    if (base + 217 > 65535) return false;
    // The masters (three with --ha) and their HTTP, etcd's client and
    // peer ports (--ha).
    for (int offset : {0, 1, 2, 80, 81, 82, 31, 32, 33, 41, 42, 43}) {
      if (!PortIsFree(base + offset)) return false;
    }
    for (int node = 1; node <= 7; ++node) {
      if (!PortIsFree(base + 100 + node) || !PortIsFree(base + 180 + node) ||
          !PortIsFree(base + 200 + node) || !PortIsFree(base + 210 + node)) {
        return false;
      }
    }
    return true;
  };
  for (int tries = 0; tries < 100; ++tries) {
    const int base = PickFreePort();
    if (all_free(base)) return base;
  }
  return 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Result Shell(const TempDir& dir, const std::string& command,
             const std::string& input) {
  const std::string in = dir.Sub("stdin"), out = dir.Sub("stdout"),
                    err = dir.Sub("stderr");
  std::ofstream(in, std::ios::binary) << input;
  const int status = std::system(
      absl::StrCat("(", command, ") <", in, " >", out, " 2>", err).c_str());
  Result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(out);
  result.err = ReadFile(err);
  return result;
}

}  // namespace quorumkv
