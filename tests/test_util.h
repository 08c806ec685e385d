// Helpers shared by QuorumKV's tests.
#ifndef QUORUMKV_TESTS_TEST_UTIL_H_
#define QUORUMKV_TESTS_TEST_UTIL_H_

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

#define ASSERT_OK(expr)                                 \
  do {                                                  \
    const ::absl::Status _st = ::quorumkv::AsStatus(expr); \
    ASSERT_TRUE(_st.ok()) << #expr << ": " << _st;      \
  } while (0)
#define EXPECT_OK(expr)                                 \
  do {                                                  \
    const ::absl::Status _st = ::quorumkv::AsStatus(expr); \
    EXPECT_TRUE(_st.ok()) << #expr << ": " << _st;      \
  } while (0)

namespace quorumkv {

inline absl::Status AsStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status AsStatus(const T& status_or) {
  return status_or.status();
}

// Polls `condition` every few milliseconds until it holds or `timeout`
// passes; returns whether it held. Tests wait with this, never with sleeps.
bool WaitFor(const std::function<bool()>& condition,
             absl::Duration timeout = absl::Seconds(20));

#define ASSERT_EVENTUALLY(condition, timeout)                   \
  ASSERT_TRUE(::quorumkv::WaitFor([&] { return (condition); }, \
                                  (timeout)))                  \
      << "timed out waiting for " #condition

// A fresh directory under the test temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const {
    return (std::filesystem::path(path_) / name).string();
  }

 private:
  std::string path_;
};

// An HTTP/1.0 GET of `path` from 127.0.0.1:`port`, as an operator's tool
// would make it (a 5 s limit).
struct HttpResult {
  int code = 0;
  std::string content_type;
  std::string body;
};
absl::StatusOr<HttpResult> HttpGet(int port, const std::string& path);

// Samples of a Prometheus text exposition, keyed by the name and labels as
// written ("quorumkv_requests_total{mode=\"iterative\",op=\"put\",...}");
// an error names the first line that is not valid.
absl::StatusOr<std::map<std::string, double>> ParsePrometheusText(
    const std::string& text);
// The sum of the samples named `name` whose labels include every one of
// `labels` (each as `key="value"`).
double SumSamples(const std::map<std::string, double>& samples,
                  const std::string& name,
                  const std::vector<std::string>& labels = {});

// What a shell command did.
struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// The contents of `path`; empty when it cannot be read.
std::string ReadFile(const std::string& path);

// Runs `command` with /bin/sh, its standard streams in files under `dir`;
// `input` goes to its standard input.
Result Shell(const TempDir& dir, const std::string& command,
             const std::string& input = "");

// Starts `args` (args[0] the binary's path) as a process of its own, its
// standard output and error appended to `log`; returns its pid. With
// posix_spawn, not fork: the test process runs gRPC's threads.
absl::StatusOr<pid_t> SpawnProcess(const std::vector<std::string>& args,
                                   const std::string& log);
// SIGKILLs `*pid` (when > 0), reaps it and sets it to -1.
void KillProcess(pid_t* pid);

// A TCP port on 127.0.0.1 that was free a moment ago.
int PickFreePort();
// Whether `port` on 127.0.0.1 can be bound now.
bool PortIsFree(int port);
// A QKV_BASE_PORT for deploy/local-cluster.sh whose ports are all free now:
// gRPC on BASE..BASE+2 (masters) and BASE+101..107 (one for a node added
// later), HTTP on BASE+80..82 and BASE+181..187, etcd on BASE+31..33 and
// BASE+41..43 (`up --ha`), the doors on BASE+201..207 and BASE+211..217.
// 0 when none was found in 100 tries.
int PickLocalClusterBasePort();

}  // namespace quorumkv

// Runs the tests of `suite`, a ::testing::TestWithParam<QueryMode>, in both
// query modes, named after them.
#define QKV_INSTANTIATE_IN_BOTH_MODES(suite)                          \
  INSTANTIATE_TEST_SUITE_P(                                           \
      BothModes, suite,                                               \
      ::testing::Values(::quorumkv::QueryMode::kIterative,            \
                        ::quorumkv::QueryMode::kRecursive),           \
      [](const auto& info) {                                          \
        return std::string(::quorumkv::QueryModeName(info.param));    \
      })

#endif  // QUORUMKV_TESTS_TEST_UTIL_H_
