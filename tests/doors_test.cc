// The RESP door of every node of an in-process cluster, driven over real
// sockets: any key through any node's door (held or relayed), the data
// the SDK sees, pipelines answered in order with per-key order kept,
// increments from many connections never lost, the slot map agreeing with
// the directory, RESP3, protocol errors, and a client that stops reading.
#include <atomic>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/hash.h"
#include "doors/resp/cluster_map.h"
#include "gtest/gtest.h"
#include "tests/mini_cluster.h"
#include "tests/resp_client.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

class DoorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    MiniClusterOptions options;
    options.doors = true;
    options.http = true;
    options.partitions = 16;
    cluster_ = new MiniCluster(options);
    ASSERT_TRUE(cluster_->Start().ok());
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  static RespClient Connect(int node) {
    absl::StatusOr<RespClient> c =
        RespClient::Connect(cluster_->node(node)->redis_port());
    EXPECT_TRUE(c.ok()) << c.status();
    return *std::move(c);
  }
  static RespValue Call(RespClient& c, const std::vector<std::string>& args) {
    absl::StatusOr<RespValue> v = c.Call(args);
    EXPECT_TRUE(v.ok()) << args[0] << ": " << v.status();
    if (v.ok()) return *v;
    RespValue error;
    error.type = '-';
    error.text = "no reply";
    return error;
  }

  static MiniCluster* cluster_;
};

MiniCluster* DoorsTest::cluster_ = nullptr;

TEST_F(DoorsTest, EveryDoorServesEveryKey) {
  RespClient door0 = Connect(0);
  RespClient door2 = Connect(2);
  for (int i = 0; i < 40; ++i) {
    const std::string key = absl::StrCat("every:", i);
    EXPECT_EQ(Call(door0, {"SET", key, absl::StrCat("v", i)}).ToString(), "OK");
  }
  auto client = cluster_->NewClient(QueryMode::kIterative);
  ASSERT_TRUE(client.ok());
  for (int i = 0; i < 40; ++i) {
    const std::string key = absl::StrCat("every:", i);
    EXPECT_EQ(Call(door2, {"GET", key}).text, absl::StrCat("v", i));
    absl::StatusOr<ReadResult> read = (*client)->Get(key);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->value, absl::StrCat("v", i));
  }
  EXPECT_TRUE(Call(door2, {"GET", "every:missing"}).null());
  EXPECT_EQ(Call(door2, {"DEL", "every:1", "every:2", "every:missing"}).integer, 2);
  EXPECT_EQ(Call(door0, {"EXISTS", "every:1", "every:3", "every:3"}).integer, 2);
  EXPECT_EQ(Call(door0, {"TYPE", "every:3"}).text, "string");
  EXPECT_EQ(Call(door0, {"TYPE", "every:1"}).text, "none");
}

TEST_F(DoorsTest, StringCommandsAnswerAsRedis) {
  RespClient c = Connect(1);
  EXPECT_EQ(Call(c, {"SET", "s:a", "1", "NX"}).ToString(), "OK");
  EXPECT_TRUE(Call(c, {"SET", "s:a", "2", "NX"}).null());
  EXPECT_TRUE(Call(c, {"SET", "s:b", "2", "XX"}).null());
  EXPECT_EQ(Call(c, {"SET", "s:a", "3", "XX", "GET"}).text, "1");
  EXPECT_EQ(Call(c, {"GETSET", "s:a", "4"}).text, "3");
  EXPECT_EQ(Call(c, {"APPEND", "s:a", "56"}).integer, 3);
  EXPECT_EQ(Call(c, {"STRLEN", "s:a"}).integer, 3);
  EXPECT_EQ(Call(c, {"INCRBY", "s:a", "10"}).integer, 466);
  EXPECT_EQ(Call(c, {"DECR", "s:a"}).integer, 465);
  EXPECT_EQ(Call(c, {"GETDEL", "s:a"}).text, "465");
  EXPECT_TRUE(Call(c, {"GET", "s:a"}).null());
  EXPECT_EQ(Call(c, {"INCR", "s:new"}).integer, 1);
  EXPECT_EQ(Call(c, {"SET", "s:text", "abc"}).ToString(), "OK");
  EXPECT_EQ(Call(c, {"INCR", "s:text"}).ToString(),
            "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(Call(c, {"SETNX", "s:text", "x"}).integer, 0);
  EXPECT_EQ(Call(c, {"MSET", "s:m1", "a", "s:m2", "b"}).ToString(), "OK");
  EXPECT_EQ(Call(c, {"MGET", "s:m1", "s:nope", "s:m2"}).ToString(),
            "[\"a\", (nil), \"b\"]");
  EXPECT_EQ(Call(c, {"SET", "s:x", "v", "NX", "XX"}).ToString(),
            "(error) ERR syntax error");
  EXPECT_EQ(Call(c, {"SET", "s:x", "v", "EX", "0"}).ToString(),
            "(error) ERR invalid expire time in 'set' command");
  EXPECT_EQ(Call(c, {"GET"}).ToString(),
            "(error) ERR wrong number of arguments for 'get' command");
}

TEST_F(DoorsTest, ExpiryCommands) {
  RespClient c = Connect(0);
  EXPECT_EQ(Call(c, {"SET", "e:a", "v", "EX", "100"}).ToString(), "OK");
  const int64_t ttl = Call(c, {"TTL", "e:a"}).integer;
  EXPECT_GE(ttl, 99);
  EXPECT_LE(ttl, 100);
  EXPECT_GT(Call(c, {"PTTL", "e:a"}).integer, 98000);
  EXPECT_EQ(Call(c, {"PERSIST", "e:a"}).integer, 1);
  EXPECT_EQ(Call(c, {"TTL", "e:a"}).integer, -1);
  EXPECT_EQ(Call(c, {"PERSIST", "e:a"}).integer, 0);
  EXPECT_EQ(Call(c, {"TTL", "e:none"}).integer, -2);
  EXPECT_EQ(Call(c, {"EXPIRE", "e:a", "50"}).integer, 1);
  EXPECT_EQ(Call(c, {"EXPIRE", "e:a", "60", "NX"}).integer, 0);
  EXPECT_EQ(Call(c, {"EXPIRE", "e:a", "60", "GT"}).integer, 1);
  EXPECT_EQ(Call(c, {"EXPIRE", "e:none", "50"}).integer, 0);
  // SET keeps no TTL unless KEEPTTL.
  EXPECT_EQ(Call(c, {"SET", "e:a", "w", "KEEPTTL"}).ToString(), "OK");
  EXPECT_GT(Call(c, {"TTL", "e:a"}).integer, 0);
  EXPECT_EQ(Call(c, {"SET", "e:a", "w"}).ToString(), "OK");
  EXPECT_EQ(Call(c, {"TTL", "e:a"}).integer, -1);
  // An expiry in the past deletes the key.
  EXPECT_EQ(Call(c, {"EXPIRE", "e:a", "-1"}).integer, 1);
  EXPECT_TRUE(Call(c, {"GET", "e:a"}).null());
  EXPECT_EQ(Call(c, {"PSETEX", "e:short", "1", "v"}).ToString(), "OK");
  ASSERT_TRUE(WaitFor([&] { return Call(c, {"GET", "e:short"}).null(); },
                      absl::Seconds(5)));
}

TEST_F(DoorsTest, PipelinesAnswerInOrderAndKeepPerKeyOrder) {
  RespClient c = Connect(2);
  std::string pipeline;
  constexpr int kRounds = 300;
  for (int i = 0; i < kRounds; ++i) {
    const std::string key = absl::StrCat("pipe:", i % 7);
    pipeline += RespClient::Encode({"SET", key, absl::StrCat(i)});
    pipeline += RespClient::Encode({"GET", key});
    pipeline += "PING\r\n";  // inline, as redis-benchmark's PING_INLINE
  }
  ASSERT_TRUE(c.Send(pipeline).ok());
  for (int i = 0; i < kRounds; ++i) {
    absl::StatusOr<RespValue> set = c.Read();
    absl::StatusOr<RespValue> get = c.Read();
    absl::StatusOr<RespValue> ping = c.Read();
    ASSERT_TRUE(set.ok() && get.ok() && ping.ok());
    EXPECT_EQ(set->ToString(), "OK");
    // The GET sees the SET before it on the same key.
    EXPECT_EQ(get->text, absl::StrCat(i)) << "round " << i;
    EXPECT_EQ(ping->ToString(), "PONG");
  }
}

TEST_F(DoorsTest, ConcurrentIncrementsAreNeverLost) {
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> acknowledged{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &acknowledged] {
      absl::StatusOr<RespClient> c =
          RespClient::Connect(cluster_->node(t % 3)->redis_port());
      if (!c.ok()) return;
      for (int i = 0; i < kEach; ++i) {
        absl::StatusOr<RespValue> v = c->Call({"INCR", "counter:door"});
        if (v.ok() && v->type == ':') {
          acknowledged.fetch_add(1);
        } else {
          ADD_FAILURE() << (v.ok() ? v->ToString() : v.status().ToString());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(acknowledged.load(), kThreads * kEach);
  RespClient c = Connect(0);
  EXPECT_EQ(Call(c, {"GET", "counter:door"}).text,
            absl::StrCat(kThreads * kEach));
}

TEST_F(DoorsTest, SlotMapAgreesWithTheDirectory) {
  RespClient c = Connect(0);
  const RespValue slots = Call(c, {"CLUSTER", "SLOTS"});
  ASSERT_EQ(slots.type, '*') << slots.ToString();
  DirectoryPtr directory = cluster_->node(0)->directory();
  int64_t covered = 0;
  for (const RespValue& range : slots.elements) {
    ASSERT_GE(range.elements.size(), 3u);
    const int64_t first = range.elements[0].integer;
    const int64_t last = range.elements[1].integer;
    covered += last - first + 1;
    // Its first node is a replica of the partition of its slots.
    const uint32_t partition =
        PartitionOfSlot(static_cast<uint32_t>(first), directory->partitions());
    const int port = static_cast<int>(range.elements[2].elements[1].integer);
    const std::string& id = directory->Replicas(partition).front();
    EXPECT_EQ(port, cluster_->node(cluster_->IndexOf(id))->redis_port());
  }
  EXPECT_EQ(covered, kRedisSlots);
  EXPECT_EQ(Call(c, {"CLUSTER", "KEYSLOT", "foo"}).integer, 12182);
  const RespValue myid = Call(c, {"CLUSTER", "MYID"});
  EXPECT_EQ(myid.text, RedisNodeId(cluster_->node(0)->id()));
  const RespValue nodes = Call(c, {"CLUSTER", "NODES"});
  EXPECT_NE(nodes.text.find("myself,master"), std::string::npos);
  EXPECT_NE(Call(c, {"CLUSTER", "INFO"}).text.find("cluster_state:ok"),
            std::string::npos);
}

TEST_F(DoorsTest, Resp3AfterHello) {
  RespClient c = Connect(1);
  const RespValue hello = Call(c, {"HELLO", "3"});
  ASSERT_EQ(hello.type, '%') << hello.ToString();
  EXPECT_EQ(hello.elements[0].text, "server");
  EXPECT_EQ(hello.elements[5].integer, 3);  // proto
  ASSERT_TRUE(c.Send(RespClient::Encode({"GET", "r3:missing"})).ok());
  absl::StatusOr<RespValue> missing = c.Read();
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->type, '_');
  EXPECT_EQ(Call(c, {"HELLO", "4"}).ToString(),
            "(error) NOPROTO unsupported protocol version");
}

TEST_F(DoorsTest, UnknownCommandsKeepTheConnectionProtocolErrorsClose) {
  RespClient c = Connect(0);
  EXPECT_EQ(Call(c, {"NOSUCH", "a"}).ToString(),
            "(error) ERR unknown command 'NOSUCH', with args beginning with: 'a' ");
  EXPECT_EQ(Call(c, {"CLIENT", "SETINFO", "LIB-NAME", "test"}).ToString(), "OK");
  EXPECT_EQ(Call(c, {"PING"}).ToString(), "PONG");
  ASSERT_TRUE(c.Send("*1\r\n:3\r\n").ok());
  absl::StatusOr<RespValue> error = c.Read();
  ASSERT_TRUE(error.ok());
  EXPECT_EQ(error->ToString(), "(error) ERR Protocol error: expected '$', got ':'");
  EXPECT_TRUE(absl::IsUnavailable(c.Read().status()));
}

TEST_F(DoorsTest, ScanWalksEveryKeyWithNumericCursors) {
  RespClient c = Connect(1);
  for (int i = 0; i < 60; ++i) {
    EXPECT_EQ(Call(c, {"SET", absl::StrCat("scan:", i), "v"}).ToString(), "OK");
  }
  std::set<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    const RespValue page = Call(c, {"SCAN", cursor, "MATCH", "scan:*", "COUNT", "7"});
    ASSERT_EQ(page.elements.size(), 2u) << page.ToString();
    cursor = page.elements[0].text;
    uint64_t parsed = 0;
    EXPECT_TRUE(absl::SimpleAtoi(cursor, &parsed)) << cursor;
    for (const RespValue& key : page.elements[1].elements) seen.insert(key.text);
  } while (cursor != "0" && ++calls < 1000);
  EXPECT_EQ(seen.size(), 60u);
}

TEST_F(DoorsTest, AClientThatStopsReadingIsNotBuffered) {
  RespClient writer = Connect(0);
  const std::string big(256 * 1024, 'b');
  EXPECT_EQ(Call(writer, {"SET", "big:one", big}).ToString(), "OK");
  // A million GETs of 256 KiB would be 256 GiB of replies: the door stops
  // reading once its output is full, so the kernel's buffers fill and
  // stop taking the 32 MB of requests.
  RespClient reader = Connect(0);
  std::string requests;
  const std::string get = RespClient::Encode({"GET", "big:one"});
  for (int i = 0; i < 1200000; ++i) requests += get;
  const size_t taken = reader.SendSome(requests, absl::Seconds(3));
  EXPECT_LT(taken, requests.size());
  // The door still serves others meanwhile.
  EXPECT_EQ(Call(writer, {"PING"}).ToString(), "PONG");
}

TEST_F(DoorsTest, CommandsAreCountedByDoorCommandAndOutcome) {
  RespClient c = Connect(0);
  EXPECT_EQ(Call(c, {"SET", "metrics:a", "1"}).ToString(), "OK");
  EXPECT_EQ(Call(c, {"INCR", "metrics:b"}).integer, 1);
  EXPECT_EQ(Call(c, {"GET"}).type, '-');
  EXPECT_EQ(Call(c, {"NOSUCH"}).type, '-');
  absl::StatusOr<HttpResult> page = HttpGet(cluster_->node(0)->http_port(), "/metrics");
  ASSERT_TRUE(page.ok()) << page.status();
  auto samples = ParsePrometheusText(page->body);
  ASSERT_TRUE(samples.ok()) << samples.status();
  const std::string name = "quorumkv_door_commands_total";
  EXPECT_GE(SumSamples(*samples, name, {"door=\"redis\"", "command=\"set\"",
                                        "outcome=\"ok\""}), 1);
  EXPECT_GE(SumSamples(*samples, name, {"command=\"incr\"", "outcome=\"ok\""}), 1);
  EXPECT_GE(SumSamples(*samples, name, {"command=\"get\"", "outcome=\"error\""}), 1);
  EXPECT_GE(SumSamples(*samples, name, {"command=\"unknown\""}), 1);
  EXPECT_GE(SumSamples(*samples, "quorumkv_door_connections", {"door=\"redis\""}), 1);
}

constexpr char kDataToken[] = "door-data-token-0123456789";

// Doors of a cluster with tokens: Redis clients AUTH, memcached clients use
// memcached's ASCII authentication; nothing is served before.
class DoorsAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string file = dir_.Sub("tokens");
    // The nodes call each other with the admin token.
    std::ofstream(file) << "data " << kDataToken << "\n"
                        << "admin door-admin-token-0123456789\n";
    MiniClusterOptions options;
    options.doors = true;
    options.nodes = 3;
    options.auth_token_file = file;
    cluster_ = std::make_unique<MiniCluster>(options);
    ASSERT_TRUE(cluster_->Start().ok());
  }
  TempDir dir_;
  std::unique_ptr<MiniCluster> cluster_;
};

TEST_F(DoorsAuthTest, RedisClientsAuthenticateFirst) {
  auto c = RespClient::Connect(cluster_->node(0)->redis_port());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->Call({"GET", "k"})->ToString(),
            "(error) NOAUTH Authentication required.");
  EXPECT_EQ(c->Call({"AUTH", "wrong"})->ToString(),
            "(error) WRONGPASS invalid username-password pair or user is disabled.");
  EXPECT_EQ(c->Call({"PING"})->ToString(),
            "(error) NOAUTH Authentication required.");
  EXPECT_EQ(c->Call({"AUTH", "default", kDataToken})->ToString(), "OK");
  EXPECT_EQ(c->Call({"SET", "k", "v"})->ToString(), "OK");
  // HELLO's own AUTH, on a new connection.
  auto h = RespClient::Connect(cluster_->node(1)->redis_port());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->Call({"HELLO", "3", "AUTH", "u", kDataToken})->type, '%');
  EXPECT_EQ(h->Call({"GET", "k"})->text, "v");
}

TEST_F(DoorsAuthTest, MemcachedClientsAuthenticateWithASet) {
  auto c = RespClient::Connect(cluster_->node(2)->memcached_port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->Send("get k\r\n").ok());
  EXPECT_EQ(*c->ReadLine(), "CLIENT_ERROR unauthenticated");
  ASSERT_TRUE(c->Send("set auth 0 0 9\r\nuser nope\r\n").ok());
  EXPECT_EQ(*c->ReadLine(), "CLIENT_ERROR authentication failure");
  const std::string auth = absl::StrCat("user ", kDataToken);
  ASSERT_TRUE(c->Send(absl::StrCat("set auth 0 0 ", auth.size(), "\r\n", auth,
                                   "\r\n")).ok());
  EXPECT_EQ(*c->ReadLine(), "STORED");
  ASSERT_TRUE(c->Send("set k 0 0 2\r\nmc\r\nget k\r\n").ok());
  EXPECT_EQ(*c->ReadLine(), "STORED");
  EXPECT_EQ(*c->ReadLine(), "VALUE k 0 2");
  EXPECT_EQ(*c->ReadLine(), "mc");
  EXPECT_EQ(*c->ReadLine(), "END");
}

}  // namespace
}  // namespace quorumkv
