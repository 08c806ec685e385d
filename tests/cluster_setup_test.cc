// In-process tests of how the processes start and how a request's life is
// bounded: misconfigurations a user can make when starting daemons, and
// requests whose caller went away or whose deadline passed before they
// arrived. Real master and storage nodes over real gRPC and RocksDB.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/rpc_status.h"
#include "grpcpp/create_channel.h"
#include "proto/kv.grpc.pb.h"
#include "proto/replica.grpc.pb.h"
#include "tests/fault_injection.h"
#include "tests/mini_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

// Misconfigurations a user can make when starting processes; not about
// query modes.
class ClusterSetupTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { SetMinLogSeverity(LogSeverity::WARNING); }
};

TEST_F(ClusterSetupTest, SecondNodeWithTheSameIdIsRefused) {
  MiniCluster cluster;
  ASSERT_OK(cluster.Start());
  // A copied data dir: same identity, another address.
  TempDir copy;
  std::filesystem::copy_file(
      std::filesystem::path(cluster.node_data_dir(0)) / "IDENTITY",
      std::filesystem::path(copy.path()) / "IDENTITY");
  StorageNodeOptions options;
  options.listen = "127.0.0.1:0";
  options.master = cluster.master_address();
  options.rack = "r1";
  options.data_dir = copy.path();
  auto twin = StorageNode::Start(options);
  ASSERT_OK(twin);
  auto refused = std::async(std::launch::async, [&] { return (*twin)->Wait(); });
  ASSERT_EQ(refused.wait_for(std::chrono::seconds(20)),
            std::future_status::ready);
  const absl::Status status = refused.get();
  EXPECT_TRUE(absl::IsAlreadyExists(status)) << status;
  EXPECT_NE(status.message().find(cluster.node(0)->id()), std::string::npos);
  // The original keeps serving.
  auto client = cluster.NewClient(QueryMode::kIterative);
  ASSERT_OK(client);
  ASSERT_OK((*client)->Put("k", "v"));
  auto nodes = (*client)->Nodes();
  ASSERT_OK(nodes);
  EXPECT_EQ(nodes->nodes.size(), 3u);
}

TEST_F(ClusterSetupTest, DataDirOfAnotherKindIsRefused) {
  MiniCluster cluster;
  ASSERT_OK(cluster.Start());
  MasterOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = cluster.node_data_dir(0);
  auto master = Master::Start(options);
  EXPECT_TRUE(absl::IsFailedPrecondition(master.status())) << master.status();
  EXPECT_NE(master.status().message().find("belongs to a storage_node"),
            std::string::npos)
      << master.status();
}

TEST_F(ClusterSetupTest, BadOptionsNameTheProblem) {
  TempDir dir;
  MasterOptions master;
  master.listen = "localhost";
  master.data_dir = dir.Sub("m");
  auto status = Master::Start(master).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("--listen"), std::string::npos) << status;
  master.listen = "127.0.0.1:0";
  master.initial_nodes = 2;
  status = Master::Start(master).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("--initial_nodes"), std::string::npos);

  StorageNodeOptions node;
  node.listen = "127.0.0.1:0";
  node.master = "127.0.0.1:99999";
  node.rack = "r1";
  node.data_dir = dir.Sub("n");
  status = StorageNode::Start(node).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("--master"), std::string::npos) << status;
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("n")));
}

// gRPC binds with SO_REUSEPORT unless told not to: a second daemon on a
// taken address would start and share its connections.
TEST_F(ClusterSetupTest, ASecondDaemonOnATakenAddressIsRefused) {
  TempDir dir;
  MasterOptions first;
  first.listen = "127.0.0.1:0";
  first.data_dir = dir.Sub("m1");
  first.replication = 1;
  auto running = Master::Start(first);
  ASSERT_OK(running);
  const std::string taken =
      absl::StrCat("127.0.0.1:", (*running)->port());
  MasterOptions second = first;
  second.listen = taken;
  second.data_dir = dir.Sub("m2");
  auto status = Master::Start(second).status();
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_NE(status.message().find("address in use"), std::string::npos)
      << status;

  StorageNodeOptions node;
  node.listen = taken;
  node.master = taken;
  node.rack = "r1";
  node.data_dir = dir.Sub("n");
  status = StorageNode::Start(node).status();
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_NE(status.message().find("address in use"), std::string::npos)
      << status;
}

TEST_F(ClusterSetupTest, WildcardListenNeedsAnAdvertisedAddress) {
  TempDir dir;
  StorageNodeOptions node;
  node.listen = "0.0.0.0:0";
  node.master = "127.0.0.1:7000";
  node.rack = "r1";
  node.data_dir = dir.Sub("n");
  absl::Status status = StorageNode::Start(node).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("--advertise"), std::string::npos) << status;
  node.advertise = "[::]:7101";
  status = StorageNode::Start(node).status();
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_NE(status.message().find("wildcard"), std::string::npos) << status;
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("n")));
}

// Placement puts a partition's replicas on distinct racks; a node that comes
// back in another rack would silently break that.
TEST_F(ClusterSetupTest, NodeBackInAnotherRackIsRefused) {
  MiniCluster cluster;
  ASSERT_OK(cluster.Start());
  const std::string id = cluster.node(0)->id();
  cluster.StopNode(0);
  StorageNodeOptions options;
  options.listen = "127.0.0.1:0";
  options.master = cluster.master_address();
  options.rack = "r2";  // node 0 was in r1
  options.data_dir = cluster.node_data_dir(0);
  auto moved = StorageNode::Start(options);
  ASSERT_OK(moved);
  auto refused = std::async(std::launch::async, [&] { return (*moved)->Wait(); });
  ASSERT_EQ(refused.wait_for(std::chrono::seconds(20)),
            std::future_status::ready);
  const absl::Status status = refused.get();
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_NE(status.message().find("--rack=r1"), std::string::npos) << status;
  moved->reset();
  const NodeDescriptor* known = cluster.master()->directory()->FindNode(id);
  ASSERT_NE(known, nullptr);
  EXPECT_EQ(known->rack(), "r1");
  // Back in its own rack it is welcome.
  ASSERT_OK(cluster.RestartNode(0));
}

// Starts a storage node from `data_dir` against `master` and waits (20 s at
// most) for it to stop by itself; returns why it stopped.
absl::Status RunUntilRefused(const std::string& master, const std::string& data_dir) {
  StorageNodeOptions options;
  options.listen = "127.0.0.1:0";
  options.master = master;
  options.rack = "r1";
  options.data_dir = data_dir;
  auto node = StorageNode::Start(options);
  if (!node.ok()) return node.status();
  auto stopped = std::async(std::launch::async, [&] { return (*node)->Wait(); });
  if (stopped.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    (*node)->Shutdown();
    return absl::DeadlineExceededError("the node was not refused within 20 s");
  }
  return stopped.get();
}

std::string ReadIdentityFile(const std::string& data_dir) {
  std::ifstream in(std::filesystem::path(data_dir) / "IDENTITY");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every node records the cluster it joined; a master of another cluster
// refuses it, and the node says why and stops: data of two clusters never
// mix.
TEST_F(ClusterSetupTest, NodeOfAnotherClusterIsRefused) {
  MiniCluster a, b;
  ASSERT_OK(a.Start());
  ASSERT_OK(b.Start());
  const std::string a_id = a.master()->directory()->proto().cluster_id();
  const std::string b_id = b.master()->directory()->proto().cluster_id();
  ASSERT_EQ(a_id.size(), 16u);
  ASSERT_NE(a_id, b_id);
  EXPECT_NE(ReadIdentityFile(a.node_data_dir(0)).find("cluster=" + a_id + "\n"),
            std::string::npos)
      << ReadIdentityFile(a.node_data_dir(0));
  const std::string id = a.node(0)->id();
  a.StopNode(0);

  const absl::Status refused = RunUntilRefused(b.master_address(), a.node_data_dir(0));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_NE(refused.message().find("belongs to cluster " + a_id), std::string::npos)
      << refused;
  EXPECT_NE(refused.message().find("cluster " + b_id), std::string::npos) << refused;
  EXPECT_EQ(b.master()->directory()->FindNode(id), nullptr);
  // Its data dir still names its own cluster, whose master takes it back.
  EXPECT_NE(ReadIdentityFile(a.node_data_dir(0)).find("cluster=" + a_id),
            std::string::npos);
  ASSERT_OK(a.RestartNode(0));
  ASSERT_EVENTUALLY(a.node(0)->registered(), absl::Seconds(20));
}

// A new master (a fresh data dir) has formed no cluster: a node that
// belongs to one is refused rather than adopted by it.
TEST_F(ClusterSetupTest, NewMasterRefusesANodeOfAnExistingCluster) {
  MiniCluster a;
  ASSERT_OK(a.Start());
  const std::string a_id = a.master()->directory()->proto().cluster_id();
  a.StopNode(0);
  TempDir dir;
  MasterOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.Sub("new-master");
  auto master = Master::Start(options);
  ASSERT_OK(master);
  const absl::Status refused = RunUntilRefused((*master)->address(), a.node_data_dir(0));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused)) << refused;
  EXPECT_NE(refused.message().find("has not formed a cluster yet"), std::string::npos)
      << refused;
  EXPECT_EQ((*master)->directory()->proto().nodes_size(), 0);
}

// The cluster id is the directory's: a restarted master keeps it, and its
// nodes come back.
TEST_F(ClusterSetupTest, ClusterIdSurvivesAMasterRestart) {
  MiniCluster cluster;
  ASSERT_OK(cluster.Start());
  const std::string id = cluster.master()->directory()->proto().cluster_id();
  ASSERT_FALSE(id.empty());
  cluster.StopMaster();
  ASSERT_OK(cluster.RestartMaster());
  EXPECT_EQ(cluster.master()->directory()->proto().cluster_id(), id);
  cluster.StopNode(1);
  ASSERT_OK(cluster.RestartNode(1));
  ASSERT_EVENTUALLY(cluster.node(1)->registered(), absl::Seconds(20));
}

// The server answers before the node has registered: a peer from a newer
// epoch reaching it then must get an answer, not crash the node.
TEST_F(ClusterSetupTest, ARequestBeforeRegistrationIsAnswered) {
  TempDir dir;
  StorageNodeOptions options;
  options.listen = "127.0.0.1:0";
  options.master = absl::StrCat("127.0.0.1:", PickFreePort());
  options.rack = "r1";
  options.data_dir = dir.Sub("n");
  grpc::Status answer;
  options.serving_hook = [&](const std::string& address) {
    auto stub = ReplicaService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    StreamPartitionRequest request;
    request.set_partition(0);
    request.set_directory_epoch(42);
    auto reader = stub->StreamPartition(&context, request);
    PartitionChunk chunk;
    while (reader->Read(&chunk)) {
    }
    answer = reader->Finish();
  };
  auto node = StorageNode::Start(options);
  ASSERT_OK(node);
  EXPECT_EQ(answer.error_code(), grpc::StatusCode::UNAVAILABLE)
      << answer.error_message();
  EXPECT_NE(answer.error_message().find("epoch"), std::string::npos);
}

TEST_F(ClusterSetupTest, NodeKeepsRetryingAnAbsentMaster) {
  TempDir dir;
  const int master_port = PickFreePort();
  StorageNodeOptions node;
  node.listen = "127.0.0.1:0";
  node.master = absl::StrCat("127.0.0.1:", master_port);
  node.rack = "r1";
  node.data_dir = dir.Sub("n");
  auto started = StorageNode::Start(node);
  ASSERT_OK(started);
  EXPECT_FALSE((*started)->registered());
  // The master shows up later on that address: the node registers.
  MasterOptions master;
  master.listen = node.master;
  master.data_dir = dir.Sub("m");
  master.replication = 1;
  auto m = Master::Start(master);
  ASSERT_OK(m);
  ASSERT_EVENTUALLY((*started)->registered(), absl::Seconds(20));
  ASSERT_EVENTUALLY((*started)->directory()->formed(), absl::Seconds(10));
}

// A client that goes away cancels what the master was doing for it: the
// relay abandons the call to the coordinator instead of holding it until
// the deadline.
TEST(RelayTest, CancelledClientCancelsTheRelayedCall) {
  auto faults = std::make_shared<PeerFaults>();
  MiniClusterOptions options;
  options.peer_factories.assign(3, FaultyPeers(faults));
  MiniCluster cluster(options);
  ASSERT_OK(cluster.Start());
  DirectoryPtr directory = cluster.master()->directory();
  const auto& replicas = directory->Replicas(directory->PartitionOf("gone"));
  {
    absl::MutexLock lock(&faults->mu);
    faults->stall_writes_to =
        directory->FindNode(replicas[2])->address();  // W=3 waits on it
  }
  auto stub = KvService::NewStub(grpc::CreateChannel(
      cluster.master_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  auto stream = stub->Batch(&context);
  KvRequestBatch batch;
  KvRequest* request = batch.add_requests();
  request->set_id(1);
  request->set_timeout_ms(20000);
  request->mutable_put()->set_key("gone");
  request->mutable_put()->set_value("v");
  request->mutable_put()->set_w(3);
  ASSERT_TRUE(stream->Write(batch));
  ASSERT_EVENTUALLY(cluster.master()->relays_in_flight() == 1,
                    absl::Seconds(5));
  context.TryCancel();
  // Without the cancellation it would stay until the deadline (~18 s).
  ASSERT_EVENTUALLY(cluster.master()->relays_in_flight() == 0,
                    absl::Seconds(5));
  absl::MutexLock lock(&faults->mu);
  faults->stall_writes_to.clear();
}

// A request read after its sender's deadline (a paused server, resumed) is
// not started: a write the client gave up on must not be stamped after the
// writes it made since, and win over them.
TEST(LateRequestTest, ArrivingAfterItsDeadlineIsNotStarted) {
  MiniCluster cluster;
  ASSERT_OK(cluster.Start());
  DirectoryPtr directory = cluster.master()->directory();
  const std::string coordinator =
      directory->FindNode(directory->Replicas(directory->PartitionOf("late"))[0])
          ->address();
  for (const std::string& address : {coordinator, cluster.master_address()}) {
    SCOPED_TRACE(address);
    auto stub = KvService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    auto stream = stub->Batch(&context);
    KvRequestBatch batch;
    KvRequest* request = batch.add_requests();
    request->set_id(1);
    request->set_timeout_ms(10000);  // what it had left when it was sent...
    request->set_deadline_unix_ms(   // ...which ended a while ago
        absl::ToUnixMillis(absl::Now() - absl::Seconds(3)));
    request->mutable_put()->set_key("late");
    request->mutable_put()->set_value("stale");
    request->mutable_put()->set_directory_epoch(directory->epoch());
    ASSERT_TRUE(stream->Write(batch));
    KvReplyBatch replies;
    ASSERT_TRUE(stream->Read(&replies));
    ASSERT_EQ(replies.replies_size(), 1);
    const absl::Status status = FromRequestError(replies.replies(0).error());
    EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
    EXPECT_NE(status.message().find("not started"), std::string::npos) << status;
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
  auto client = cluster.NewClient(QueryMode::kIterative);
  ASSERT_OK(client);
  EXPECT_TRUE(absl::IsNotFound((*client)->Get("late").status()));
}

}  // namespace
}  // namespace quorumkv
