// Security on real processes (docs/operations.md, "Security"): mutual TLS
// refuses every peer the cluster's CA did not sign (clients, nodes, plain
// HTTP), a node with another cluster's data dir is refused and exits, and
// tokens guard gRPC and HTTP alike. Each refusal is asserted on its exact
// code and on what the refused side says.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/tls.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/health.grpc.pb.h"
#include "tests/process_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

const std::string kMakeCerts = std::string(QKV_SOURCE_DIR) + "/deploy/make-certs.sh";

// Makes a CA under `root` and the identities a 3-node ProcessCluster needs.
void MakeClusterCerts(const TempDir& dir, const std::string& root, int nodes) {
  std::string names = "master client";
  for (int i = 0; i < nodes; ++i) absl::StrAppend(&names, " node", i);
  const Result made = Shell(dir, kMakeCerts + " " + root + " " + names);
  ASSERT_EQ(made.exit_code, 0) << made.err;
}

int CountOf(const std::string& text, const std::string& what) {
  int count = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

// The gRPC health check of `address` over a channel made as `security`
// says: how a bare client (no SDK) fares against a node.
grpc::Status CheckHealth(const std::string& address,
                         const ChannelSecurity& security) {
  auto stub = grpc::health::v1::Health::NewStub(MakeChannel(address, security));
  grpc::ClientContext context;
  SetTimeout(context, absl::Seconds(3));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  return stub->Check(&context, request, &response);
}

class TlsProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    certs_ = dir_.Sub("certs");
    MakeClusterCerts(dir_, certs_, 3);
    // Another CA, as an attacker or a neighbouring cluster would have.
    const Result other = Shell(dir_, kMakeCerts + " " + dir_.Sub("other") +
                                         " client node9");
    ASSERT_EQ(other.exit_code, 0) << other.err;
    http_port_ = PickFreePort();
    ProcessClusterOptions options;
    options.bin_dir = QKV_BIN_DIR;
    options.nodes = 3;
    options.tls_root = certs_;
    options.doors = true;
    options.master_flags = {absl::StrCat("--http_listen=127.0.0.1:", http_port_)};
    cluster_ = std::make_unique<ProcessCluster>(options);
    ASSERT_OK(cluster_->Start());
    kvcli_ = absl::StrCat(QKV_BIN_DIR, "/kvcli --master=",
                          cluster_->master_address(), " --timeout=3s ");
  }

  // A TLS directory `name` that trusts the cluster's CA but holds the
  // certificate and key of identity `identity` of the other CA: what an
  // intruder who copied the (public) ca.pem would bring.
  std::string TrustingOurCaWithTheirCert(const std::string& name,
                                         const std::string& identity) {
    const std::string out = dir_.Sub(name);
    const std::string theirs = dir_.Sub("other") + "/" + identity;
    std::filesystem::create_directories(out);
    std::filesystem::copy_file(certs_ + "/ca.pem", out + "/ca.pem");
    std::filesystem::copy_file(theirs + "/cert.pem", out + "/cert.pem");
    std::filesystem::copy_file(theirs + "/key.pem", out + "/key.pem");
    return out;
  }

  // Handshakes the master has refused so far.
  int MasterRefusals() const {
    return CountOf(cluster_->MasterLog(), "TLS: refused a connection");
  }

  TempDir dir_;
  std::string certs_;
  int http_port_ = 0;
  std::unique_ptr<ProcessCluster> cluster_;
  std::string kvcli_;
};

TEST_F(TlsProcessTest, ClusterCertificatesWorkInBothModes) {
  const std::string with_tls = kvcli_ + "--tls_dir=" + certs_ + "/client ";
  // W=3: the coordinator reaches both other nodes over TLS too.
  Result put = Shell(dir_, with_tls + "--w=3 put k v1");
  ASSERT_EQ(put.exit_code, 0) << put.err << cluster_->Logs();
  Result get = Shell(dir_, with_tls + "--r=3 get k");
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "v1");
  // Recursive: the master relays to the nodes over TLS.
  Result relayed = Shell(dir_, with_tls + "--mode=recursive put k v2");
  EXPECT_EQ(relayed.exit_code, 0) << relayed.err;
  Result from_env = Shell(dir_, "KV_TLS_DIR=" + certs_ + "/client " + kvcli_ +
                                    "--mode=recursive --r=3 get k");
  EXPECT_EQ(from_env.exit_code, 0) << from_env.err;
  EXPECT_EQ(from_env.out, "v2");
  // The nodes registered and beat over TLS: all UP.
  Result nodes = Shell(dir_, with_tls + "--json nodes");
  ASSERT_EQ(nodes.exit_code, 0) << nodes.err;
  EXPECT_EQ(CountOf(nodes.out, "\"state\": \"UP\""), 3) << nodes.out;
  // kvbench, baseline included (the nodes' health check over TLS).
  Result bench = Shell(dir_, absl::StrCat(
      QKV_BIN_DIR, "/kvbench --master=", cluster_->master_address(),
      " --tls_dir=", certs_, "/client --workload=mixed --keys=100 "
      "--inflight=4 --duration=1s --baseline=1s --progress=false --json"));
  EXPECT_EQ(bench.exit_code, 0) << bench.err;
  EXPECT_TRUE(absl::StrContains(bench.out, "\"errors\": {}")) << bench.out;
  EXPECT_TRUE(absl::StrContains(bench.out, "\"x_ping\"")) << bench.out;
  EXPECT_EQ(MasterRefusals(), 0) << cluster_->MasterLog();
}

TEST_F(TlsProcessTest, ClientWithoutACertificateIsRefused) {
  const int before = MasterRefusals();
  Result plain = Shell(dir_, kvcli_ + "get k");
  EXPECT_EQ(plain.exit_code, 3) << plain.err;
  EXPECT_TRUE(absl::StrContains(plain.err, "TLS")) << plain.err;
  EXPECT_EQ(CountOf(plain.err, "\n"), 1) << plain.err;
  ASSERT_EVENTUALLY(MasterRefusals() > before, absl::Seconds(10));
  EXPECT_TRUE(absl::StrContains(cluster_->MasterLog(), "wrong version number"))
      << cluster_->MasterLog();
  // A node refuses a plaintext client as well.
  const grpc::Status direct = CheckHealth(cluster_->node_address(0), {});
  EXPECT_EQ(direct.error_code(), grpc::StatusCode::UNAVAILABLE)
      << direct.error_message();
}

TEST_F(TlsProcessTest, ClientCertificateFromAnotherCaIsRefused) {
  // The client trusts the cluster's CA but its own certificate comes from
  // another: the servers must refuse it.
  const std::string mixed = TrustingOurCaWithTheirCert("mixed", "client");
  const int before = MasterRefusals();
  Result wrong = Shell(dir_, kvcli_ + "--tls_dir=" + mixed + " get k");
  EXPECT_EQ(wrong.exit_code, 3) << wrong.err;
  EXPECT_EQ(CountOf(wrong.err, "\n"), 1) << wrong.err;
  ASSERT_EVENTUALLY(MasterRefusals() > before, absl::Seconds(10));
  EXPECT_TRUE(absl::StrContains(cluster_->MasterLog(), "certificate"))
      << cluster_->MasterLog();
  auto tls = LoadTlsDir(mixed, "test", /*signed_by_ca=*/false);
  ASSERT_OK(tls);
  const grpc::Status direct =
      CheckHealth(cluster_->node_address(1), ChannelSecurity{"", *tls});
  EXPECT_EQ(direct.error_code(), grpc::StatusCode::UNAVAILABLE)
      << direct.error_message();

  // A client of another CA altogether does not trust the servers either.
  Result other = Shell(dir_, kvcli_ + "--tls_dir=" + dir_.Sub("other") +
                                 "/client get k");
  EXPECT_EQ(other.exit_code, 3) << other.err;
  EXPECT_TRUE(absl::StrContains(other.err, "certificate verify failed"))
      << other.err;
  EXPECT_EQ(CountOf(other.err, "\n"), 1) << other.err;

  // The cluster's own client gets in, over the same node.
  auto good = LoadTlsDir(certs_ + "/client");
  ASSERT_OK(good);
  const grpc::Status ok =
      CheckHealth(cluster_->node_address(1), ChannelSecurity{"", *good});
  EXPECT_TRUE(ok.ok()) << ok.error_message();
}

TEST_F(TlsProcessTest, NodeWithAnotherCasCertificateCannotJoin) {
  // A node whose certificate the cluster's CA did not sign does not even
  // start: it checks its own files against the CA it is given.
  const std::string mixed = TrustingOurCaWithTheirCert("mixed-node", "node9");
  const Result refused = Shell(
      dir_, absl::StrCat("timeout 30 ", QKV_BIN_DIR,
                         "/kv_storage_node --listen=127.0.0.1:", PickFreePort(),
                         " --master=", cluster_->master_address(),
                         " --rack=r1 --data_dir=", dir_.Sub("node8"),
                         " --tls_dir=", mixed));
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_TRUE(absl::StrContains(refused.err, "cert.pem does not verify against ca.pem"))
      << refused.err;

  // A node of another CA altogether starts, but cannot register: it does
  // not trust the master, and the master would not trust it.
  const std::string log = dir_.Sub("node9.log");
  // Started directly (not under `timeout`), so that $! is the node itself
  // and the kill below ends it, whatever the test's outcome.
  const std::string command = absl::StrCat(
      QKV_BIN_DIR, "/kv_storage_node --listen=127.0.0.1:", PickFreePort(),
      " --master=", cluster_->master_address(), " --rack=r1 --data_dir=",
      dir_.Sub("node9"), " --tls_dir=", dir_.Sub("other"), "/node9 >", log,
      " 2>&1 & echo $!");
  const Result started = Shell(dir_, command);
  ASSERT_EQ(started.exit_code, 0) << started.err;
  const std::string pid(absl::StripAsciiWhitespace(started.out));
  ASSERT_FALSE(pid.empty());
  const bool refused_registration = WaitFor(
      [&] {
        return absl::StrContains(ReadFile(log), "cannot register with master");
      },
      absl::Seconds(20));
  Shell(dir_, "kill -9 " + pid);
  ASSERT_TRUE(refused_registration) << ReadFile(log);
  EXPECT_TRUE(absl::StrContains(ReadFile(log), "certificate verify failed"))
      << ReadFile(log);
  Result nodes = Shell(dir_, kvcli_ + "--tls_dir=" + certs_ + "/client --json nodes");
  ASSERT_EQ(nodes.exit_code, 0) << nodes.err;
  EXPECT_EQ(CountOf(nodes.out, "\"id\""), 3) << nodes.out;
}

TEST_F(TlsProcessTest, DoorsAreMutualTls) {
  if (access("/usr/bin/redis-cli", X_OK) != 0) {
    GTEST_SKIP() << "redis-cli is not installed (scripts/install-deps.sh --tests)";
  }
  const std::string client = certs_ + "/client";
  const std::string cli = absl::StrCat("/usr/bin/redis-cli -p ", cluster_->redis_port(0));
  const std::string tls = absl::StrCat(" --tls --cacert ", client, "/ca.pem --cert ",
                                       client, "/cert.pem --key ", client, "/key.pem");
  Result ok = Shell(dir_, cli + tls + " set tls:k v");
  EXPECT_EQ(ok.out, "OK\n") << ok.err;
  // Without a certificate the handshake fails; in plaintext nothing answers.
  Result no_cert = Shell(dir_, absl::StrCat(cli, " --tls --cacert ", client,
                                            "/ca.pem get tls:k"));
  EXPECT_NE(no_cert.out, "v\n");
  Result plain = Shell(dir_, "timeout 5 " + cli + " get tls:k");
  EXPECT_NE(plain.out, "v\n");
  // memcached's door, through OpenSSL's client with the same certificate.
  Result mc = Shell(
      dir_,
      absl::StrCat("timeout 10 openssl s_client -quiet -connect 127.0.0.1:",
                   cluster_->memcached_port(1), " -CAfile ", client,
                   "/ca.pem -cert ", client, "/cert.pem -key ", client,
                   "/key.pem 2>/dev/null"),
      "get tls:k\r\nquit\r\n");
  EXPECT_TRUE(absl::StrContains(mc.out, "VALUE tls:k 0 1\r\nv\r\nEND")) << mc.out;
}

TEST_F(TlsProcessTest, HttpEndpointsServeHttpsOnly) {
  const std::string url = absl::StrCat("127.0.0.1:", http_port_);
  Result https = Shell(dir_, "curl -sS --max-time 5 --cacert " + certs_ +
                                 "/ca.pem https://" + url + "/healthz");
  EXPECT_EQ(https.exit_code, 0) << https.err;
  EXPECT_EQ(https.out, "ok\n");
  Result status = Shell(dir_, "curl -sS --max-time 5 --cacert " + certs_ +
                                  "/ca.pem https://" + url + "/api/status");
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_TRUE(absl::StrContains(status.out, "\"directory_formed\":true"))
      << status.out;
  // Plain HTTP on the HTTPS port gets no answer, and the master says why.
  Result plain = Shell(dir_, "curl -sS --max-time 5 http://" + url + "/healthz");
  EXPECT_NE(plain.exit_code, 0) << plain.out;
  EXPECT_NE(plain.out, "ok\n");
  ASSERT_EVENTUALLY(absl::StrContains(cluster_->MasterLog(), "HTTPS: refused"),
                    absl::Seconds(10));
}

// What a new user runs (README): `deploy/local-cluster.sh up --tls` gives a
// cluster that kvcli reaches with the certificate it made, and that refuses
// kvcli without one, kvcli with another CA's and plain HTTP; `add` gives
// the new node a certificate too.
TEST(LocalClusterTlsTest, UpWithTlsRefusesWhatTheClusterDidNotSign) {
  TempDir dir;
  const int base = PickLocalClusterBasePort();
  ASSERT_NE(base, 0) << "no free range of ports for the local cluster";
  const std::string env =
      absl::StrCat("QKV_CLUSTER_DIR=", dir.Sub("cluster"), " QKV_BASE_PORT=",
                   base, " QKV_BIN_DIR=", QKV_BIN_DIR, " ");
  const std::string script = std::string(QKV_SOURCE_DIR) + "/deploy/local-cluster.sh";
  Result up = Shell(dir, env + script + " up --tls");
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  const std::string client = dir.Sub("cluster") + "/tls/client";
  EXPECT_TRUE(absl::StrContains(up.out, "KV_TLS_DIR=" + client)) << up.out;
  EXPECT_TRUE(absl::StrContains(up.out, absl::StrCat("https://127.0.0.1:", base + 80)))
      << up.out;
  const std::string kvcli =
      absl::StrCat(QKV_BIN_DIR, "/kvcli --master=127.0.0.1:", base, " --timeout=3s ");

  Result put = Shell(dir, "KV_TLS_DIR=" + client + " " + kvcli + "put greeting hello");
  EXPECT_EQ(put.exit_code, 0) << put.err;
  Result get = Shell(dir, "KV_TLS_DIR=" + client + " " + kvcli +
                              "--mode=recursive get greeting");
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "hello");
  Result plain = Shell(dir, kvcli + "get greeting");
  EXPECT_EQ(plain.exit_code, 3) << plain.err;
  EXPECT_TRUE(absl::StrContains(plain.err, "TLS")) << plain.err;
  const Result other = Shell(dir, kMakeCerts + " " + dir.Sub("other") + " client");
  ASSERT_EQ(other.exit_code, 0) << other.err;
  Result foreign = Shell(dir, kvcli + "--tls_dir=" + dir.Sub("other") +
                                  "/client get greeting");
  EXPECT_EQ(foreign.exit_code, 3) << foreign.err;
  const std::string health = absl::StrCat("127.0.0.1:", base + 80, "/healthz");
  Result https = Shell(dir, "curl -sS --max-time 5 --cacert " + dir.Sub("cluster") +
                                "/tls/ca.pem https://" + health);
  EXPECT_EQ(https.out, "ok\n") << https.err;
  Result http = Shell(dir, "curl -sS --max-time 5 http://" + health);
  EXPECT_NE(http.out, "ok\n");

  Result added = Shell(dir, env + script + " add r1");
  EXPECT_EQ(added.exit_code, 0) << added.out << added.err;
  Result nodes = Shell(dir, "KV_TLS_DIR=" + client + " " + kvcli + "--json nodes");
  EXPECT_EQ(CountOf(nodes.out, "\"state\": \"UP\""), 7) << nodes.out << nodes.err;

  Result down = Shell(dir, env + script + " down");
  EXPECT_EQ(down.exit_code, 0) << down.err;
  EXPECT_TRUE(absl::StrContains(down.out, "stopped 8 processes")) << down.out;
}

// A node whose data dir belongs to another cluster is refused by this
// cluster's master and exits non-zero, saying why.
TEST(ClusterIdentityProcessTest, NodeWithAnotherClustersDataDirExits) {
  TempDir dir;
  const std::string certs = dir.Sub("certs");
  MakeClusterCerts(dir, certs, 3);
  ProcessClusterOptions options;
  options.bin_dir = QKV_BIN_DIR;
  options.nodes = 3;
  options.tls_root = certs;
  ProcessCluster first(options);
  ASSERT_OK(first.Start());
  ProcessCluster second(options);
  ASSERT_OK(second.Start());
  // node0 of the first cluster, stopped, is pointed at the second master.
  first.KillNode(0);
  const Result moved = Shell(
      dir, absl::StrCat("timeout 30 ", QKV_BIN_DIR,
                        "/kv_storage_node --listen=127.0.0.1:", PickFreePort(),
                        " --master=", second.master_address(),
                        " --rack=r1 --data_dir=", first.node_data_dir(0),
                        " --tls_dir=", certs, "/node0"));
  EXPECT_NE(moved.exit_code, 0) << moved.err;
  EXPECT_NE(moved.exit_code, 124) << "still running after 30 s: " << moved.err;
  EXPECT_TRUE(absl::StrContains(moved.err, "belongs to cluster")) << moved.err;
  EXPECT_TRUE(absl::StrContains(second.MasterLog(), "registration refused"))
      << second.MasterLog();
}

// Daemons listen on 127.0.0.1 unless told otherwise, and one told to
// listen beyond loopback without TLS warns before it binds. 192.0.2.1
// (TEST-NET-1) is no address of this machine: the bind fails right after
// the warning, and nothing is sent anywhere.
TEST(SafeDefaultsTest, NonLoopbackListenWithoutTlsWarns) {
  TempDir dir;
  for (const std::string binary : {"kv_master", "kv_storage_node"}) {
    const Result help = Shell(dir, absl::StrCat(QKV_BIN_DIR, "/", binary, " --help"));
    EXPECT_TRUE(absl::StrContains(help.out + help.err, "--listen=127.0.0.1:"))
        << help.out << help.err;
  }
  const std::string master = absl::StrCat(QKV_BIN_DIR, "/kv_master --data_dir=");
  const Result exposed = Shell(dir, master + dir.Sub("m1") + " --listen=192.0.2.1:7000");
  EXPECT_EQ(exposed.exit_code, 1) << exposed.err;
  EXPECT_TRUE(absl::StrContains(exposed.err, "WARNING: master listens on "
                                             "192.0.2.1:7000 without TLS"))
      << exposed.err;
  const Result http = Shell(dir, master + dir.Sub("m2") +
                                     " --listen=127.0.0.1:0 --http_listen=192.0.2.1:7080");
  EXPECT_TRUE(absl::StrContains(http.err, "listens on 192.0.2.1:7080 without TLS"))
      << http.err;
  const std::string certs = dir.Sub("certs");
  const Result made = Shell(dir, kMakeCerts + " " + certs + " master");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const Result with_tls = Shell(dir, master + dir.Sub("m3") +
                                         " --listen=192.0.2.1:7000 --tls_dir=" +
                                         certs + "/master");
  EXPECT_EQ(with_tls.exit_code, 1) << with_tls.err;
  EXPECT_FALSE(absl::StrContains(with_tls.err, "without TLS")) << with_tls.err;
  EXPECT_TRUE(absl::StrContains(with_tls.err, "cannot listen on 192.0.2.1:7000"))
      << with_tls.err;
  // Loopback addresses other than 127.0.0.1 are as private. (HTTP on the
  // gRPC port: the daemon stops at once, after the check.)
  const std::string same = absl::StrCat("127.0.0.2:", PickFreePort());
  const Result loopback = Shell(dir, "timeout 30 " + master + dir.Sub("m4") +
                                         " --listen=" + same + " --http_listen=" + same);
  EXPECT_EQ(loopback.exit_code, 1) << loopback.err;
  EXPECT_TRUE(absl::StrContains(loopback.err, "--http_listen")) << loopback.err;
  EXPECT_FALSE(absl::StrContains(loopback.err, "without TLS")) << loopback.err;
}

// Tokens on real processes (docs/operations.md, "Tokens"): kvcli without a
// token, with a wrong one, and with a data token on an admin command exits
// 4 with one line saying why; with the right tokens it works, from
// --token_file or $KV_TOKEN. The HTTP endpoints want a data token too,
// except /healthz.
TEST(TokenProcessTest, KvcliAndHttpNeedTheRightToken) {
  TempDir dir;
  const std::string data = "data-token-for-the-process-test";
  const std::string admin = "admin-token-for-the-process-test";
  const std::string file = dir.Sub("tokens");
  std::ofstream(file) << "data " << data << "\nadmin " << admin << "\n";
  std::ofstream(dir.Sub("data-token")) << data << "\n";
  const int http_port = PickFreePort();
  ProcessClusterOptions options;
  options.bin_dir = QKV_BIN_DIR;
  options.nodes = 3;
  options.master_flags = {"--auth_token_file=" + file,
                          absl::StrCat("--http_listen=127.0.0.1:", http_port)};
  options.node_flags = {"--auth_token_file=" + file};
  options.token = admin;
  ProcessCluster cluster(options);
  ASSERT_OK(cluster.Start());
  const std::string kvcli =
      absl::StrCat(QKV_BIN_DIR, "/kvcli --master=", cluster.master_address(),
                   " --timeout=3s ");

  Result none = Shell(dir, kvcli + "put k v");
  EXPECT_EQ(none.exit_code, 4) << none.err;
  EXPECT_NE(none.err.find("no token"), std::string::npos) << none.err;
  EXPECT_EQ(std::count(none.err.begin(), none.err.end(), '\n'), 1) << none.err;

  Result wrong = Shell(dir, "KV_TOKEN=not-the-right-token-at-all " + kvcli +
                                "--mode=recursive get k");
  EXPECT_EQ(wrong.exit_code, 4) << wrong.err;
  EXPECT_NE(wrong.err.find("not valid"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.err.find("not-the-right-token-at-all"), std::string::npos);

  const std::string with_data = kvcli + "--token_file=" + dir.Sub("data-token") + " ";
  Result put = Shell(dir, with_data + "put k v");
  EXPECT_EQ(put.exit_code, 0) << put.err;
  Result get = Shell(dir, with_data + "--mode=recursive get k");
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "v");
  Result plan = Shell(dir, with_data + "plan");
  EXPECT_EQ(plan.exit_code, 4) << plan.err;
  EXPECT_NE(plan.err.find("admin token"), std::string::npos) << plan.err;
  Result decommission = Shell(dir, with_data + "decommission --dry-run nobody");
  EXPECT_EQ(decommission.exit_code, 4) << decommission.err;
  EXPECT_NE(decommission.err.find("admin token"), std::string::npos)
      << decommission.err;

  Result admin_plan = Shell(dir, "KV_TOKEN=" + admin + " " + kvcli + "plan");
  EXPECT_EQ(admin_plan.exit_code, 0) << admin_plan.err;

  // HTTP: the status data and metrics need a data token, /healthz none.
  auto metrics = HttpGet(http_port, "/metrics");
  ASSERT_OK(metrics);
  EXPECT_EQ(metrics->code, 401) << metrics->body;
  auto status = HttpGet(http_port, "/api/status");
  ASSERT_OK(status);
  EXPECT_EQ(status->code, 401) << status->body;
  auto health = HttpGet(http_port, "/healthz");
  ASSERT_OK(health);
  EXPECT_EQ(health->code, 200) << health->body;
  const std::string url = absl::StrCat("http://127.0.0.1:", http_port);
  Result with_token = Shell(dir, "curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "
                                 "-H 'Authorization: Bearer " + data + "' " +
                                 url + "/metrics");
  EXPECT_EQ(with_token.out, "200") << with_token.err;
  Result wrong_token = Shell(dir, "curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "
                                  "-H 'Authorization: Bearer nope' " + url +
                                  "/api/status");
  EXPECT_EQ(wrong_token.out, "401") << wrong_token.err;
  EXPECT_EQ(cluster.MasterLog().find(data), std::string::npos)
      << "a token was logged";

  // The status page in a browser: without a token it says how to give
  // one; with the token in its URL's fragment it shows the cluster.
  const std::string chromium = absl::StrCat(
      "HOME=", dir.path(), " timeout 120 chromium --headless --no-sandbox "
      "--disable-gpu --disable-dev-shm-usage --user-data-dir=", dir.Sub("chromium"),
      " --virtual-time-budget=10000 --dump-dom ");
  Result refused_page = Shell(dir, chromium + url + "/");
  ASSERT_EQ(refused_page.exit_code, 0) << refused_page.err;
  EXPECT_TRUE(absl::StrContains(refused_page.out, "open this page as /#token=TOKEN"))
      << refused_page.out;
  Result page = Shell(dir, chromium + "'" + url + "/#token=" + data + "'");
  ASSERT_EQ(page.exit_code, 0) << page.err;
  EXPECT_TRUE(absl::StrContains(page.out, "nodes: 3 UP")) << page.out;
  EXPECT_TRUE(absl::StrContains(page.out, "id=\"error\" style=\"display: none;\""))
      << page.out;
}

}  // namespace
}  // namespace quorumkv
