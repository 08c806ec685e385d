#include "tests/etcd_cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "master/etcd/etcd_client.h"

namespace quorumkv {

std::string EtcdBinary() {
  for (const char* path : {"/usr/bin/etcd", "/usr/local/bin/etcd"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

EtcdCluster::EtcdCluster(int members) {
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = absl::StrCat("etcd", i);
    m.client_port = PickFreePort();
    m.peer_port = PickFreePort();
    members_.push_back(m);
  }
}

EtcdCluster::~EtcdCluster() {
  for (int i = 0; i < size(); ++i) Kill(i);
}

std::string EtcdCluster::endpoint(int i) const {
  return absl::StrCat("127.0.0.1:", members_[i].client_port);
}

std::string EtcdCluster::endpoints() const {
  std::vector<std::string> all;
  for (int i = 0; i < size(); ++i) all.push_back(endpoint(i));
  return absl::StrJoin(all, ",");
}

absl::Status EtcdCluster::Spawn(Member& m) {
  std::vector<std::string> peers;
  for (const Member& other : members_) {
    peers.push_back(
        absl::StrCat(other.name, "=http://127.0.0.1:", other.peer_port));
  }
  const std::string client = absl::StrCat("http://127.0.0.1:", m.client_port);
  const std::string peer = absl::StrCat("http://127.0.0.1:", m.peer_port);
  std::vector<std::string> args = {
      EtcdBinary(),
      "--name=" + m.name,
      "--data-dir=" + dir_.Sub(m.name),
      "--listen-client-urls=" + client,
      "--advertise-client-urls=" + client,
      "--listen-peer-urls=" + peer,
      "--initial-advertise-peer-urls=" + peer,
      "--initial-cluster=" + absl::StrJoin(peers, ","),
      "--initial-cluster-state=new",
      "--initial-cluster-token=" + dir_.path(),
      // Quick elections: tests kill members.
      "--heartbeat-interval=50",
      "--election-timeout=500",
      "--logger=zap",
      "--log-level=warn",
  };
  absl::StatusOr<pid_t> pid = SpawnProcess(args, dir_.Sub(m.name + ".log"));
  if (!pid.ok()) return pid.status();
  m.pid = *pid;
  return absl::OkStatus();
}

absl::Status EtcdCluster::Start(absl::Duration timeout) {
  if (EtcdBinary().empty()) {
    return absl::FailedPreconditionError(
        "etcd is not installed (scripts/install-deps.sh --tests installs "
        "etcd-server)");
  }
  for (Member& m : members_) {
    if (absl::Status s = Spawn(m); !s.ok()) return s;
  }
  started_ = true;
  auto client = EtcdClient::Create(endpoints());
  if (!client.ok()) return client.status();
  etcdserverpb::RangeRequest probe;
  probe.set_key("/probe");
  const bool up = WaitFor(
      [&] { return (*client)->Range(probe, absl::Seconds(1)).ok(); }, timeout);
  return up ? absl::OkStatus()
            : absl::DeadlineExceededError("etcd did not start: " + Logs());
}

void EtcdCluster::Kill(int i) { KillProcess(&members_[i].pid); }

absl::Status EtcdCluster::Restart(int i) {
  Kill(i);
  return Spawn(members_[i]);
}

std::string EtcdCluster::Logs() const {
  std::string out;
  for (const Member& m : members_) {
    absl::StrAppend(&out, "--- ", m.name, "\n", ReadFile(dir_.Sub(m.name + ".log")));
  }
  return out;
}

}  // namespace quorumkv
