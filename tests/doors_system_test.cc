// The front doors of real processes, driven by the clients users have:
// redis-cli, redis-benchmark (plain and --cluster), redis-py (plain and
// RedisCluster), pymemcache, memccapable and memcslap; the replies compared
// with a real redis-server and memcached started here on the same command
// sequences; and writers through both doors while a replica is killed,
// every acknowledged write read back. Tools that are missing (the project's
// install script puts them in) skip the test, saying which.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/process_cluster.h"
#include "tests/resp_client.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

bool Have(const std::string& program) {
  return access(program.c_str(), X_OK) == 0;
}

#define QKV_NEED(program)                                              \
  if (!Have(program)) {                                                \
    GTEST_SKIP() << program << " is not installed (scripts/install-deps.sh " \
                 << "--tests installs it)";                            \
  }

class DoorsSystemTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ProcessClusterOptions options = SmallClusterOptions(QKV_BIN_DIR, 16);
    options.doors = true;
    options.node_flags.push_back("--memcached_flush_all");
    options.master_flags.push_back("--node_down_after=2s");
    cluster_ = new ProcessCluster(options);
    const absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << started << cluster_->Logs();
    for (int i = 0; i < cluster_->num_nodes(); ++i) {
      // The doors answer once the node has the directory.
      ASSERT_TRUE(WaitFor([i] {
        auto c = RespClient::Connect(cluster_->redis_port(i));
        if (!c.ok()) return false;
        auto v = c->Call({"CLUSTER", "INFO"});
        return v.ok() && absl::StrContains(v->text, "cluster_state:ok");
      }));
    }
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  // A real server on a free port, killed when the test ends.
  int StartServer(const std::vector<std::string>& args_before_port,
                  const std::string& port_flag,
                  const std::vector<std::string>& args_after = {}) {
    const int port = PickFreePort();
    std::vector<std::string> args = args_before_port;
    args.push_back(port_flag);
    args.push_back(absl::StrCat(port));
    args.insert(args.end(), args_after.begin(), args_after.end());
    absl::StatusOr<pid_t> pid = SpawnProcess(args, dir_.Sub("server.log"));
    EXPECT_TRUE(pid.ok()) << pid.status();
    if (pid.ok()) servers_.push_back(*pid);
    EXPECT_TRUE(WaitFor([port] { return !PortIsFree(port); }, absl::Seconds(10)))
        << args[0] << " did not listen on " << port;
    return port;
  }
  void TearDown() override {
    for (pid_t& pid : servers_) KillProcess(&pid);
  }

  Result Run(const std::string& command) {
    Result r = Shell(dir_, command);
    if (r.exit_code != 0) {
      ADD_FAILURE() << command << "\nexit " << r.exit_code << "\n" << r.out
                    << r.err;
    }
    return r;
  }
  static std::string Script(const std::string& name) {
    return absl::StrCat(kPython, " ", QKV_SOURCE_DIR, "/tests/doors/", name);
  }
  static std::string DoorPorts() {
    std::vector<std::string> ports;
    for (int i = 0; i < cluster_->num_nodes(); ++i) {
      ports.push_back(absl::StrCat(cluster_->redis_port(i)));
    }
    return absl::StrJoin(ports, " ");
  }

  static ProcessCluster* cluster_;
  TempDir dir_;
  std::vector<pid_t> servers_;
};

ProcessCluster* DoorsSystemTest::cluster_ = nullptr;

TEST_F(DoorsSystemTest, RepliesAgreeWithRedisServer) {
  QKV_NEED("/usr/bin/redis-server");
  const int redis = StartServer({"/usr/bin/redis-server", "--save", "",
                                 "--appendonly", "no", "--bind", "127.0.0.1"},
                                "--port");
  Result r = Run(absl::StrCat(Script("redis_diff.py"), " ",
                              cluster_->redis_port(0), " ", redis));
  std::cout << r.out;
}

TEST_F(DoorsSystemTest, RepliesAgreeWithMemcached) {
  QKV_NEED("/usr/bin/memcached");
  const int memcached =
      StartServer({"/usr/bin/memcached", "-l", "127.0.0.1", "-U", "0", "-u", "nobody"}, "-p");
  Result r = Run(absl::StrCat(Script("memcached_diff.py"), " ",
                              cluster_->memcached_port(1), " ", memcached));
  std::cout << r.out;
}

TEST_F(DoorsSystemTest, RedisCli) {
  QKV_NEED("/usr/bin/redis-cli");
  const std::string cli =
      absl::StrCat("/usr/bin/redis-cli -p ", cluster_->redis_port(0));
  EXPECT_EQ(Run(cli + " set cli:greeting hello").out, "OK\n");
  EXPECT_EQ(Run(cli + " get cli:greeting").out, "hello\n");
  // -e: a command that errs exits 1.
  Result bad = Shell(dir_, cli + " -e incr cli:greeting");
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_NE((bad.out + bad.err).find("value is not an integer"), std::string::npos)
      << bad.out << bad.err;
  // RESP3: a null is an empty line, as redis-cli prints Redis's.
  EXPECT_EQ(Run(cli + " -3 get cli:nothing").out, "\n");
  EXPECT_EQ(Run(cli + " -3 exists cli:greeting").out, "1\n");
  // -c follows the slot map; another node's door serves the key as well.
  EXPECT_EQ(Run(absl::StrCat("/usr/bin/redis-cli -c -p ", cluster_->redis_port(2),
                             " set cli:{tag}a 1"))
                .out,
            "OK\n");
  EXPECT_EQ(Run(absl::StrCat("/usr/bin/redis-cli -c -p ", cluster_->redis_port(1),
                             " get cli:{tag}a"))
                .out,
            "1\n");
  // --pipe: a thousand commands as raw protocol.
  std::string commands;
  for (int i = 0; i < 1000; ++i) {
    commands += RespClient::Encode({"SET", absl::StrCat("cli:pipe:", i), "v"});
  }
  Result pipe = Shell(dir_, cli + " --pipe", commands);
  EXPECT_EQ(pipe.exit_code, 0) << pipe.out << pipe.err;
  EXPECT_NE(pipe.out.find("errors: 0, replies: 1000"), std::string::npos)
      << pipe.out;
  EXPECT_EQ(Run(cli + " get cli:pipe:999").out, "v\n");
}

TEST_F(DoorsSystemTest, RedisBenchmarkPlainAndCluster) {
  QKV_NEED("/usr/bin/redis-benchmark");
  for (const std::string mode : {"", " --cluster"}) {
    Result r = Run(absl::StrCat(
        "/usr/bin/redis-benchmark -p ", cluster_->redis_port(1), mode,
        " -t ping,set,get,incr,mset -n 2000 -c 8 -q"));
    // One line per test with its rate; no error lines.
    for (const char* test : {"PING_INLINE: ", "PING_MBULK: ", "SET: ", "GET: ",
                             "INCR: ", "MSET (10 keys): "}) {
      EXPECT_NE(r.out.find(test), std::string::npos)
          << "no " << test << " in" << mode << "\n" << r.out << r.err;
    }
    EXPECT_EQ(r.out.find("ERR"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("rror"), std::string::npos) << r.err;
  }
}

TEST_F(DoorsSystemTest, RedisPyPlainAndCluster) {
  QKV_NEED(kPython);
  Result r = Run(absl::StrCat(Script("redis_clients.py"), " ", DoorPorts()));
  std::cout << r.out;
}

TEST_F(DoorsSystemTest, MemcachedTools) {
  QKV_NEED("/usr/bin/memccapable");
  const int port = cluster_->memcached_port(0);
  Result capable = Run(absl::StrCat("/usr/bin/memccapable -a -h 127.0.0.1 -p ", port));
  EXPECT_EQ(capable.out.find("fail"), std::string::npos) << capable.out;
  Result slap = Run(absl::StrCat("/usr/bin/memcslap --servers=127.0.0.1:", port,
                                 " --concurrency=4 --execute-number=500"));
  EXPECT_NE(slap.out.find("Time to set"), std::string::npos) << slap.out << slap.err;
}

TEST_F(DoorsSystemTest, AcknowledgedWritesSurviveAKilledReplica) {
  QKV_NEED(kPython);
  // Writers through node 0's Redis door and node 1's memcached door for
  // six seconds; node 2 is killed after two.
  const std::string command = absl::StrCat(
      Script("ack_writers.py"), " 6 ", cluster_->redis_port(0), " ",
      cluster_->memcached_port(1), " ", cluster_->redis_port(1));
  TempDir out;
  absl::StatusOr<pid_t> writers = SpawnProcess(
      {"/bin/sh", "-c", command}, out.Sub("writers.log"));
  ASSERT_TRUE(writers.ok());
  // The writers have acknowledged something before the kill.
  ASSERT_TRUE(WaitFor([&] {
    auto c = RespClient::Connect(cluster_->redis_port(0));
    auto v = c.ok() ? c->Call({"DBSIZE"}) : absl::StatusOr<RespValue>();
    return v.ok() && v->integer > 0;
  }));
  cluster_->KillNode(2);
  int status = 0;
  ASSERT_EQ(waitpid(*writers, &status, 0), *writers);
  const std::string log = ReadFile(out.Sub("writers.log"));
  std::cout << log;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log;
  EXPECT_NE(log.find("lost 0"), std::string::npos) << log;
  ASSERT_TRUE(cluster_->RestartNode(2).ok());
}

}  // namespace
}  // namespace quorumkv
