// A real etcd 3 cluster on 127.0.0.1 for tests of replicated masters:
// Debian's etcd-server, `members` of them on free ports, each with its
// data dir under a temp dir and its log, which a test can kill -9 and
// start again. Not thread-safe: drive it from the test's thread.
#ifndef QUORUMKV_TESTS_ETCD_CLUSTER_H_
#define QUORUMKV_TESTS_ETCD_CLUSTER_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tests/test_util.h"

namespace quorumkv {

// The etcd binary, or "" when it is not installed (scripts/install-deps.sh
// --tests installs it).
std::string EtcdBinary();

// Skips the running test, saying how to install etcd, when it is not
// installed (./tests/run.sh installs it, so CI runs every such test).
#define QKV_SKIP_WITHOUT_ETCD()                                           \
  do {                                                                    \
    if (::quorumkv::EtcdBinary().empty()) {                               \
      GTEST_SKIP() << "etcd is not installed: scripts/install-deps.sh "   \
                      "--tests installs etcd-server";                     \
    }                                                                     \
  } while (0)

class EtcdCluster {
 public:
  explicit EtcdCluster(int members = 3);
  ~EtcdCluster();  // kills every member

  // Starts every member and waits until the cluster answers.
  absl::Status Start(absl::Duration timeout = absl::Seconds(30));
  // "127.0.0.1:P,127.0.0.1:Q,..." for --etcd.
  std::string endpoints() const;
  std::string endpoint(int i) const;
  int size() const { return static_cast<int>(members_.size()); }

  void Kill(int i);              // SIGKILL, and reaped
  absl::Status Restart(int i);   // same ports and data dir
  std::string Logs() const;

 private:
  struct Member {
    std::string name;
    int client_port = 0;
    int peer_port = 0;
    pid_t pid = -1;
  };
  absl::Status Spawn(Member& member);

  TempDir dir_;
  std::vector<Member> members_;
  bool started_ = false;
};

}  // namespace quorumkv

#endif  // QUORUMKV_TESTS_ETCD_CLUSTER_H_
