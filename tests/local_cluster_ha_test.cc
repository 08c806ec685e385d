// `deploy/local-cluster.sh up --ha` as a user runs it: a 3-member etcd on
// loopback, three masters and six nodes; kvcli sees a leader and two
// standbys, the leader killed -9 is followed by another, requests go on in
// both modes, and `down` stops every process it started.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/etcd_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

int CountOf(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + what.size())) {
    ++n;
  }
  return n;
}

TEST(LocalClusterHaTest, UpWithReplicatedMastersSurvivesTheLeader) {
  QKV_SKIP_WITHOUT_ETCD();
  TempDir dir;
  const int base = PickLocalClusterBasePort();
  ASSERT_NE(base, 0) << "no free range of ports for the local cluster";
  const std::string cluster = dir.Sub("cluster");
  const std::string env = absl::StrCat("QKV_CLUSTER_DIR=", cluster,
                                       " QKV_BASE_PORT=", base,
                                       " QKV_BIN_DIR=", QKV_BIN_DIR, " ");
  const std::string script = env + QKV_SOURCE_DIR "/deploy/local-cluster.sh ";
  const std::string kvcli = absl::StrCat(
      QKV_BIN_DIR, "/kvcli --master=127.0.0.1:", base, ",127.0.0.1:", base + 1,
      ",127.0.0.1:", base + 2, " ");
  Result up = Shell(dir, script + "up --ha");
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_TRUE(absl::StrContains(up.out, "masters 127.0.0.1:")) << up.out;

  Result masters = Shell(dir, kvcli + "--json masters");
  EXPECT_EQ(masters.exit_code, 0) << masters.err;
  EXPECT_EQ(CountOf(masters.out, "\"role\": \"leader\""), 1) << masters.out;
  EXPECT_EQ(CountOf(masters.out, "\"role\": \"standby\""), 2) << masters.out;
  EXPECT_EQ(Shell(dir, kvcli + "put greeting hello").exit_code, 0);

  // Any master's status page lists the three masters and their roles
  // (each master registers within a couple of seconds of its lease).
  ASSERT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<HttpResult> status = HttpGet(base + 81, "/api/status");
        return status.ok() &&
               CountOf(status->body, "\"role\":\"leader\"") == 1 &&
               CountOf(status->body, "\"role\":\"standby\"") == 2;
      },
      absl::Seconds(10)))
      << HttpGet(base + 81, "/api/status")->body;

  // The leader's pid file is master, master2 or master3's.
  const size_t at = masters.out.find("\"role\": \"leader\"");
  const std::string before = masters.out.substr(0, at);
  const int port = std::stoi(before.substr(before.rfind(':') + 1));
  const std::string leader =
      port == base ? "master" : absl::StrCat("master", port - base + 1);
  ASSERT_EQ(Shell(dir, "kill -9 $(cat " + cluster + "/" + leader + ".pid)")
                .exit_code,
            0);
  ASSERT_TRUE(WaitFor(
      [&] {
        Result r = Shell(dir, kvcli + "--json masters");
        return r.exit_code == 0 &&
               CountOf(r.out, "\"role\": \"leader\"") == 1 &&
               CountOf(r.out, "\"role\": \"unreachable\"") == 1;
      },
      absl::Seconds(30)));
  for (const char* mode : {"iterative", "recursive"}) {
    Result get = Shell(dir, kvcli + "--mode=" + mode + " get greeting");
    EXPECT_EQ(get.exit_code, 0) << mode << ": " << get.err;
    EXPECT_EQ(get.out, "hello") << mode;
  }
  EXPECT_TRUE(WaitFor(
      [&] { return Shell(dir, kvcli + "status").exit_code == 0; },
      absl::Seconds(30)));

  Result down = Shell(dir, script + "down");
  EXPECT_EQ(down.exit_code, 0) << down.err;
  // Nothing it started is left (the pattern's [c] keeps this command's
  // own command line from matching).
  Result left = Shell(dir, "grep -l -- '" + dir.path() +
                               "/[c]luster/' /proc/[0-9]*/cmdline 2>/dev/null "
                               "| wc -l");
  EXPECT_EQ(left.out, "0\n") << left.out;
}

}  // namespace
}  // namespace quorumkv
