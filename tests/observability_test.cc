// What an operator sees of an in-process cluster over HTTP and the gRPC
// health service: /metrics counts exactly the requests sent, in the right
// mode and outcome, without the heartbeat resetting it; /healthz follows
// registration; /api/status and the status page describe every node.
// Real master and storage nodes over real gRPC, HTTP and RocksDB.
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/grpc_util.h"
#include "common/logging.h"
#include "grpcpp/create_channel.h"
#include "proto/health.grpc.pb.h"
#include "tests/mini_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

class ObservabilityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { SetMinLogSeverity(LogSeverity::WARNING); }

  static MiniClusterOptions WithHttp() {
    MiniClusterOptions options;
    options.http = true;
    return options;
  }

  // The samples /metrics on `port` serves, parsed.
  static std::map<std::string, double> Scrape(int port) {
    absl::StatusOr<HttpResult> page = HttpGet(port, "/metrics");
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) return {};
    EXPECT_EQ(page->code, 200);
    EXPECT_EQ(page->content_type, "text/plain; version=0.0.4; charset=utf-8");
    absl::StatusOr<std::map<std::string, double>> samples =
        ParsePrometheusText(page->body);
    EXPECT_TRUE(samples.ok()) << samples.status();
    return samples.ok() ? *samples : std::map<std::string, double>{};
  }
};

// One figure summed over the nodes of `cluster`.
double NodesSum(MiniCluster& cluster, const std::string& name,
                const std::vector<std::string>& labels) {
  double sum = 0;
  for (int i = 0; i < cluster.num_nodes(); ++i) {
    absl::StatusOr<HttpResult> page =
        HttpGet(cluster.node(i)->http_port(), "/metrics");
    if (!page.ok()) return -1;
    absl::StatusOr<std::map<std::string, double>> samples =
        ParsePrometheusText(page->body);
    if (!samples.ok()) return -1;
    sum += SumSamples(*samples, name, labels);
  }
  return sum;
}

TEST_F(ObservabilityTest, RequestCountersRiseByExactlyTheRequestsSent) {
  MiniCluster cluster(WithHttp());
  ASSERT_OK(cluster.Start());
  auto iterative = cluster.NewClient(QueryMode::kIterative);
  auto recursive = cluster.NewClient(QueryMode::kRecursive);
  ASSERT_OK(iterative);
  ASSERT_OK(recursive);
  const int master_http = cluster.master()->http_port();
  ASSERT_GT(master_http, 0);

  constexpr int kPuts = 25, kDeletes = 7, kGets = 15, kMissing = 4;
  for (int i = 0; i < kPuts; ++i) {
    ASSERT_OK((*iterative)->Put(absl::StrCat("key", i), "value"));
  }
  for (int i = 0; i < kDeletes; ++i) {
    ASSERT_OK((*iterative)->Delete(absl::StrCat("key", i)));
  }
  for (int i = 0; i < kGets; ++i) {
    ASSERT_OK((*recursive)->Get(absl::StrCat("key", kDeletes + i)));
  }
  for (int i = 0; i < kMissing; ++i) {
    EXPECT_TRUE(absl::IsNotFound(
        (*recursive)->Get(absl::StrCat("missing", i)).status()));
  }

  const std::string requests = "quorumkv_requests_total";
  // Each request counted once by the node that coordinated it...
  EXPECT_EQ(NodesSum(cluster, requests,
                     {"op=\"put\"", "mode=\"iterative\"", "outcome=\"ok\""}),
            kPuts);
  EXPECT_EQ(NodesSum(cluster, requests,
                     {"op=\"delete\"", "mode=\"iterative\"", "outcome=\"ok\""}),
            kDeletes);
  EXPECT_EQ(NodesSum(cluster, requests,
                     {"op=\"get\"", "mode=\"recursive\"", "outcome=\"ok\""}),
            kGets);
  EXPECT_EQ(NodesSum(cluster, requests,
                     {"op=\"get\"", "mode=\"recursive\"",
                      "outcome=\"not_found\""}),
            kMissing);
  EXPECT_EQ(NodesSum(cluster, requests, {}), kPuts + kDeletes + kGets + kMissing);
  EXPECT_EQ(NodesSum(cluster, "quorumkv_request_duration_seconds_count",
                     {"op=\"put\"", "mode=\"iterative\""}),
            kPuts);
  // ...and the recursive ones once more by the master's relay.
  std::map<std::string, double> master = Scrape(master_http);
  EXPECT_EQ(SumSamples(master, requests,
                       {"op=\"get\"", "mode=\"recursive\"", "outcome=\"ok\""}),
            kGets);
  EXPECT_EQ(SumSamples(master, requests, {"outcome=\"not_found\""}), kMissing);
  EXPECT_EQ(SumSamples(master, requests, {"op=\"put\""}), 0);
  EXPECT_EQ(SumSamples(master, "quorumkv_directory_epoch"),
            cluster.master()->directory()->epoch());
  EXPECT_EQ(SumSamples(master, "quorumkv_nodes", {"state=\"UP\""}), 3);
  EXPECT_EQ(SumSamples(master, "quorumkv_partitions_under_replicated"), 0);
  // Every write reached all three replicas: each node holds its live keys.
  EXPECT_EQ(NodesSum(cluster, "quorumkv_stored", {"unit=\"keys\""}),
            3 * (kPuts - kDeletes));
  // The RAM tier is there, with its capacity, on every node.
  EXPECT_GT(NodesSum(cluster, "quorumkv_cache_bytes", {"kind=\"capacity\""}), 0);
  EXPECT_GE(NodesSum(cluster, "quorumkv_cache_events_total", {"event=\"miss\""}), 0);

  // The heartbeat's writes/s comes from the same counters; sampling it
  // resets nothing /metrics shows.
  ASSERT_EVENTUALLY(
      [&] {
        absl::StatusOr<ClusterSummary> summary = (*iterative)->Nodes();
        if (!summary.ok()) return false;
        for (const NodeSummary& node : summary->nodes) {
          if (node.cache.capacity_bytes == 0) return false;
          if (node.writes_per_sec > 0) return true;
        }
        return false;
      }(),
      absl::Seconds(20));
  EXPECT_EQ(NodesSum(cluster, requests, {"op=\"put\""}), kPuts);
  EXPECT_EQ(NodesSum(cluster, requests, {}), kPuts + kDeletes + kGets + kMissing);
}

// A skewed read load shows in the nodes' heartbeats: the master sums the
// keys and partitions they report, hottest first, with the replicas.
TEST_F(ObservabilityTest, TheHottestKeysAndPartitionsReachTheMaster) {
  MiniCluster cluster;
  ASSERT_OK(cluster.Start());
  auto client = cluster.NewClient(QueryMode::kIterative);
  ASSERT_OK(client);
  ASSERT_OK((*client)->Put("hot:key", "v"));
  ASSERT_OK((*client)->Put("cold:key", "v"));
  const uint32_t partition =
      (*client)->Where("hot:key")->partition;
  // Heartbeats report the interval just before them: keep the load on
  // until one has carried it.
  ASSERT_EVENTUALLY(
      [&] {
        for (int i = 0; i < 50; ++i) {
          (*client)->Get("hot:key").IgnoreError();
        }
        (*client)->Get("cold:key").IgnoreError();
        absl::StatusOr<ClusterSummary> summary = (*client)->Nodes();
        return summary.ok() && !summary->hot_keys.empty() &&
               summary->hot_keys[0].key == "hot:key" &&
               summary->hot_keys[0].partition == partition &&
               summary->hot_keys[0].reads_per_sec > 0 &&
               !summary->hot_partitions.empty() &&
               summary->hot_partitions[0].partition == partition &&
               summary->hot_partitions[0].replicas.size() == 3;
      }(),
      absl::Seconds(20));
}

TEST_F(ObservabilityTest, HealthzFollowsRegistrationAndShutdown) {
  MiniCluster cluster(WithHttp());
  ASSERT_OK(cluster.Start());
  absl::StatusOr<HttpResult> master = HttpGet(cluster.master()->http_port(), "/healthz");
  ASSERT_OK(master);
  EXPECT_EQ(master->code, 200);
  EXPECT_EQ(master->body, "ok\n");
  absl::StatusOr<HttpResult> node = HttpGet(cluster.node(0)->http_port(), "/healthz");
  ASSERT_OK(node);
  EXPECT_EQ(node->code, 200);
  absl::StatusOr<HttpResult> missing =
      HttpGet(cluster.master()->http_port(), "/no/such/page");
  ASSERT_OK(missing);
  EXPECT_EQ(missing->code, 404);

  // A node whose master does not answer serves, but is not healthy.
  TempDir dir;
  StorageNodeOptions options;
  options.listen = "127.0.0.1:0";
  options.http_listen = "127.0.0.1:0";
  options.master = absl::StrCat("127.0.0.1:", PickFreePort());
  options.rack = "r1";
  options.data_dir = dir.Sub("lonely");
  absl::StatusOr<std::unique_ptr<StorageNode>> lonely = StorageNode::Start(options);
  ASSERT_OK(lonely);
  absl::StatusOr<HttpResult> unhealthy = HttpGet((*lonely)->http_port(), "/healthz");
  ASSERT_OK(unhealthy);
  EXPECT_EQ(unhealthy->code, 503);
  EXPECT_EQ(unhealthy->body, "not registered with the master yet\n");

  // gRPC's health service says the same as /healthz while serving, and
  // NOT_SERVING once shutdown begins (the HTTP server is gone after it).
  auto channel = grpc::CreateChannel(cluster.node(1)->address(),
                                     grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  SetTimeout(context, absl::Seconds(5));
  grpc::health::v1::HealthCheckResponse answer;
  ASSERT_TRUE(health->Check(&context, {}, &answer).ok());
  EXPECT_EQ(answer.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  const int port = cluster.node(1)->http_port();
  cluster.StopNode(1);
  EXPECT_FALSE(HttpGet(port, "/healthz").ok());
}

TEST_F(ObservabilityTest, StatusJsonAndPageDescribeEveryNode) {
  MiniCluster cluster(WithHttp());
  ASSERT_OK(cluster.Start());
  const int port = cluster.master()->http_port();
  absl::StatusOr<HttpResult> json = HttpGet(port, "/api/status");
  ASSERT_OK(json);
  EXPECT_EQ(json->code, 200);
  EXPECT_EQ(json->content_type, "application/json");
  EXPECT_NE(json->body.find("\"directory_formed\":true"), std::string::npos)
      << json->body;
  EXPECT_NE(json->body.find("\"under_replicated\":0"), std::string::npos);
  for (int i = 0; i < cluster.num_nodes(); ++i) {
    EXPECT_NE(json->body.find(absl::StrCat("\"id\":\"", cluster.node(i)->id(), "\"")),
              std::string::npos)
        << json->body;
  }
  for (const char* rack : {"r1", "r2", "r3"}) {
    EXPECT_NE(json->body.find(absl::StrCat("\"rack\":\"", rack, "\"")),
              std::string::npos);
  }
  absl::StatusOr<HttpResult> page = HttpGet(port, "/");
  ASSERT_OK(page);
  EXPECT_EQ(page->code, 200);
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("fetch(\"/api/status\""), std::string::npos);
  // Storage nodes serve no status page of their own.
  absl::StatusOr<HttpResult> node_page = HttpGet(cluster.node(0)->http_port(), "/");
  ASSERT_OK(node_page);
  EXPECT_EQ(node_page->code, 404);
}

TEST_F(ObservabilityTest, HttpListenOnATakenPortIsRefused) {
  MiniCluster cluster(WithHttp());
  ASSERT_OK(cluster.Start());
  TempDir dir;
  MasterOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.Sub("master");
  options.http_listen =
      absl::StrCat("127.0.0.1:", cluster.master()->http_port());
  absl::StatusOr<std::unique_ptr<Master>> second = Master::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_NE(second.status().message().find("--http_listen"), std::string::npos)
      << second.status();
  options.http_listen = "nonsense";
  second = Master::Start(options);
  EXPECT_TRUE(absl::IsInvalidArgument(second.status())) << second.status();
}

}  // namespace
}  // namespace quorumkv
