// The RESP door's pure parts: the command parser over many shapes (whole,
// split at every byte, inline with Redis's quoting, protocol errors), the
// reply writer in RESP2 and RESP3, glob patterns, SCAN cursors, Redis's
// hash slots and the slot map made from a directory.
#include <string>
#include <vector>

#include "common/directory.h"
#include "common/hash.h"
#include "common/limits.h"
#include "doors/resp/cluster_map.h"
#include "doors/resp/glob.h"
#include "doors/resp/redis_command_table.h"
#include "doors/resp/resp_parser.h"
#include "doors/resp/resp_reply.h"
#include "doors/resp/scan_cursors.h"
#include "gtest/gtest.h"
#include "master/directory_manager.h"
#include "master/leadership.h"
#include "master/local_directory_store.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

using Args = std::vector<std::string>;

RespParse Parse(absl::string_view input, Args* args) {
  return ParseRespCommand(input, args);
}

TEST(RespParserTest, ReadsAnArrayOfBulkStrings) {
  Args args;
  const std::string input = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\nal\r\n";
  RespParse p = Parse(input, &args);
  ASSERT_EQ(p.kind, RespParse::kCommand);
  EXPECT_EQ(p.bytes, input.size());
  EXPECT_EQ(args, (Args{"SET", "k", "v\r\nal"}));
}

TEST(RespParserTest, EveryPrefixOfACommandNeedsMore) {
  const std::string input = "*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n";
  for (size_t cut = 0; cut < input.size(); ++cut) {
    Args args;
    RespParse p = Parse(input.substr(0, cut), &args);
    EXPECT_EQ(p.kind, RespParse::kNeedMore) << "cut at " << cut;
    EXPECT_GT(p.bytes, cut) << "cut at " << cut;
    EXPECT_LE(p.bytes, input.size()) << "cut at " << cut;
    EXPECT_TRUE(args.empty());
  }
}

TEST(RespParserTest, PipelinedCommandsComeOneAtATime) {
  const std::string one = "*1\r\n$4\r\nPING\r\n";
  const std::string input = one + one + "PING\r\n";
  Args args;
  size_t at = 0;
  int commands = 0;
  while (at < input.size()) {
    RespParse p = Parse(absl::string_view(input).substr(at), &args);
    ASSERT_EQ(p.kind, RespParse::kCommand);
    EXPECT_EQ(args, Args{"PING"});
    at += p.bytes;
    ++commands;
  }
  EXPECT_EQ(commands, 3);
}

TEST(RespParserTest, InlineCommandsFollowRedisQuoting) {
  struct Case {
    std::string line;
    Args args;
  };
  const std::vector<Case> cases = {
      {"PING\r\n", {"PING"}},
      {"set  a   b\n", {"set", "a", "b"}},
      {"set \"a b\" 'c d'\r\n", {"set", "a b", "c d"}},
      {"echo \"\\x41\\n\\t\\\"\"\r\n", {"echo", "A\n\t\""}},
      {"echo 'it\\'s'\r\n", {"echo", "it's"}},
      {"echo \"\"\r\n", {"echo", ""}},
      {"\r\n", {}},
  };
  for (const Case& c : cases) {
    Args args;
    RespParse p = Parse(c.line, &args);
    ASSERT_EQ(p.kind, RespParse::kCommand) << c.line;
    EXPECT_EQ(p.bytes, c.line.size());
    EXPECT_EQ(args, c.args) << c.line;
  }
}

TEST(RespParserTest, ProtocolErrorsAreRedisOwn) {
  struct Case {
    std::string input;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"echo \"unbalanced\r\n", "Protocol error: unbalanced quotes in request"},
      {"echo \"a\"b\r\n", "Protocol error: unbalanced quotes in request"},
      {"*x\r\n", "Protocol error: invalid multibulk length"},
      {"*99999999\r\n", "Protocol error: invalid multibulk length"},
      {"*1\r\n:3\r\n", "Protocol error: expected '$', got ':'"},
      {"*1\r\n$-3\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$99999999999\r\n", "Protocol error: invalid bulk length"},
      {std::string(kMaxInlineBytes + 1, 'a'),
       "Protocol error: too big inline request"},
      {"*1" + std::string(kMaxInlineBytes + 1, '1'),
       "Protocol error: too big mbulk count string"},
  };
  for (const Case& c : cases) {
    Args args;
    RespParse p = Parse(c.input, &args);
    ASSERT_EQ(p.kind, RespParse::kError) << c.input.substr(0, 40);
    EXPECT_EQ(p.error, c.error);
    EXPECT_TRUE(args.empty());
  }
}

TEST(RespParserTest, ValuesUpToTheLimitAreRead) {
  const std::string value(kMaxValueBytes, 'v');
  const std::string input =
      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + std::to_string(value.size()) +
      "\r\n" + value + "\r\n";
  Args args;
  RespParse p = Parse(input, &args);
  ASSERT_EQ(p.kind, RespParse::kCommand);
  EXPECT_EQ(args[2].size(), value.size());
}

TEST(RespReplyTest, NullsAndMapsDependOnTheProtocol) {
  EXPECT_EQ(RespReply(2).Null(), "$-1\r\n");
  EXPECT_EQ(RespReply(3).Null(), "_\r\n");
  EXPECT_EQ(RespReply(2).MapHeader(2), "*4\r\n");
  EXPECT_EQ(RespReply(3).MapHeader(2), "%2\r\n");
  EXPECT_EQ(RespReply::Bulk("ab"), "$2\r\nab\r\n");
  EXPECT_EQ(RespReply::Integer(-5), ":-5\r\n");
  EXPECT_EQ(RespReply::Error("ERR a\r\nb"), "-ERR a  b\r\n");
  EXPECT_EQ(RespReply::BulkArray({"a", ""}), "*2\r\n$1\r\na\r\n$0\r\n\r\n");
}

TEST(GlobTest, MatchesAsRedisDoes) {
  struct Case {
    std::string pattern, text;
    bool match;
  };
  const std::vector<Case> cases = {
      {"*", "", true},          {"*", "anything", true},
      {"user:*", "user:1", true}, {"user:*", "use", false},
      {"h?llo", "hello", true}, {"h?llo", "hllo", false},
      {"h[ae]llo", "hallo", true}, {"h[ae]llo", "hillo", false},
      {"h[^e]llo", "hallo", true}, {"h[^e]llo", "hello", false},
      {"h[a-c]llo", "hbllo", true}, {"h[a-c]llo", "hdllo", false},
      {"a\\*b", "a*b", true},   {"a\\*b", "axb", false},
      {"*a*b*c*", "xxaxxbxxcxx", true}, {"*a*b*c*", "xxaxxcxxbxx", false},
      {"a*", "b", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(GlobMatch(c.pattern, c.text), c.match)
        << c.pattern << " vs " << c.text;
  }
  EXPECT_EQ(GlobLiteralPrefix("user:*"), "user:");
  EXPECT_EQ(GlobLiteralPrefix("a?b"), "a");
  EXPECT_EQ(GlobLiteralPrefix("*"), "");
}

TEST(ScanCursorsTest, ResumeWhereThePageStopped) {
  ScanCursors cursors;
  EXPECT_EQ(cursors.Make(0, ""), 0u);  // a walk starts at 0
  const uint64_t c = cursors.Make(5, "key:17");
  auto at = cursors.Resolve(c, 64);
  ASSERT_TRUE(at.has_value());
  EXPECT_EQ(at->partition, 5u);
  EXPECT_EQ(at->start_after, "key:17");
  // A partition past the cluster's: not a cursor.
  EXPECT_FALSE(cursors.Resolve(uint64_t{64} << 40, 64).has_value());
  // A forgotten token starts its partition again.
  auto forgotten = cursors.Resolve((uint64_t{3} << 40) | 999999, 64);
  ASSERT_TRUE(forgotten.has_value());
  EXPECT_EQ(forgotten->partition, 3u);
  EXPECT_EQ(forgotten->start_after, "");
}

TEST(ScanCursorsTest, KeepsABoundedNumberOfResumePoints) {
  ScanCursors cursors;
  const uint64_t first = cursors.Make(1, "a");
  for (size_t i = 0; i < ScanCursors::kMaxKept; ++i) cursors.Make(1, "b");
  EXPECT_EQ(cursors.Resolve(first, 64)->start_after, "");
}

TEST(RedisSlotTest, AgreesWithRedis) {
  // Known values of Redis's CLUSTER KEYSLOT.
  EXPECT_EQ(RedisSlot("foo"), 12182u);
  EXPECT_EQ(RedisSlot("bar"), 5061u);
  EXPECT_EQ(RedisSlot("123456789"), 12739u);  // CRC16/XMODEM check value
  EXPECT_EQ(RedisSlot("{user1000}.following"), RedisSlot("user1000"));
  EXPECT_EQ(RedisSlot("{user1000}.followers"), RedisSlot("user1000"));
  // An empty tag hashes the whole key.
  EXPECT_NE(RedisSlot("foo{}{bar}"), RedisSlot("bar"));
  EXPECT_EQ(RedisSlot("foo{{bar}}zap"), RedisSlot("{bar"));
}

TEST(RedisSlotTest, PartitionsCutTheSlotsIntoRanges) {
  for (uint32_t partitions : {1u, 3u, 64u, 1000u, 16384u}) {
    uint32_t expected = 0;
    for (uint32_t slot = 0; slot < kRedisSlots; ++slot) {
      const uint32_t p = PartitionOfSlot(slot, partitions);
      ASSERT_LT(p, partitions);
      if (p != expected) {
        ASSERT_EQ(p, expected + 1) << "slot " << slot;
        expected = p;
      }
      ASSERT_EQ(p == 0 || FirstSlotOf(p, partitions) <= slot, true);
      ASSERT_EQ(slot == FirstSlotOf(p, partitions),
                slot == 0 || PartitionOfSlot(slot - 1, partitions) != p);
    }
    EXPECT_EQ(expected, partitions - 1);
  }
}

Directory ThreeNodes(uint32_t partitions) {
  Directory d;
  d.set_epoch(7);
  d.set_partitions(partitions);
  d.set_replication(2);
  d.set_key_hash(KEY_HASH_REDIS_SLOTS);
  for (int i = 0; i < 3; ++i) {
    NodeDescriptor* n = d.add_nodes();
    n->set_id("n" + std::to_string(i));
    n->set_address("127.0.0.1:710" + std::to_string(i));
    if (i != 2) n->set_redis_address("127.0.0.1:720" + std::to_string(i));
  }
  for (uint32_t p = 0; p < partitions; ++p) {
    PartitionReplicas* r = d.add_assignments();
    // Two partitions in a row share replicas: they make one range.
    r->add_node_ids("n" + std::to_string((p / 2) % 3));
    r->add_node_ids("n" + std::to_string((p / 2 + 1) % 3));
  }
  return d;
}

TEST(ClusterMapTest, RangesCoverEverySlotWithTheirReplicasDoors) {
  const DirectoryView directory(ThreeNodes(8));
  const std::vector<SlotRange> ranges = RedisSlotRanges(directory);
  ASSERT_EQ(ranges.size(), 4u);
  uint32_t next = 0;
  for (const SlotRange& range : ranges) {
    EXPECT_EQ(range.first, next);
    next = range.last + 1;
    // n2 has no RESP door: it is left out.
    for (const NodeDescriptor* node : range.nodes) {
      EXPECT_NE(node->id(), "n2");
    }
  }
  EXPECT_EQ(next, kRedisSlots);
  ASSERT_EQ(ranges[0].nodes.size(), 2u);
  EXPECT_EQ(ranges[0].nodes[0]->id(), "n0");
  EXPECT_EQ(ranges[0].nodes[1]->id(), "n1");
  ASSERT_EQ(ranges[1].nodes.size(), 1u);  // n1, n2
  EXPECT_EQ(ranges[1].nodes[0]->id(), "n1");
  // Every key's partition is the one whose range holds its slot.
  for (const std::string key : {"foo", "bar", "user:1", "{x}y"}) {
    const uint32_t slot = RedisSlot(key);
    const uint32_t p = directory.PartitionOf(key);
    EXPECT_LE(FirstSlotOf(p, 8), slot);
    EXPECT_TRUE(p == 7 || slot < FirstSlotOf(p + 1, 8));
  }
}

TEST(ClusterMapTest, NodeIdsLookLikeRedisOnes) {
  const std::string id = RedisNodeId("3afc6430470c");
  EXPECT_EQ(id.size(), 40u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(id, RedisNodeId("3afc6430470c"));
  EXPECT_NE(id, RedisNodeId("3afc6430470d"));
  EXPECT_EQ(SplitDoorAddress("10.0.0.1:7201"),
            (std::pair<std::string, int>{"10.0.0.1", 7201}));
  EXPECT_EQ(SplitDoorAddress("[::1]:7201"),
            (std::pair<std::string, int>{"::1", 7201}));
}

TEST(RedisCommandTableTest, KeysComeFromTheirPositions) {
  const RedisCommand* mset = FindRedisCommand("MSET");
  ASSERT_NE(mset, nullptr);
  EXPECT_EQ(CommandKeys(*mset, {"MSET", "a", "1", "b", "2"}), (Args{"a", "b"}));
  const RedisCommand* del = FindRedisCommand("del");
  EXPECT_EQ(CommandKeys(*del, {"DEL", "a", "b", "c"}), (Args{"a", "b", "c"}));
  EXPECT_TRUE(CommandKeys(*FindRedisCommand("ping"), {"PING"}).empty());
  EXPECT_EQ(FindRedisCommand("nosuchcommand"), nullptr);
  for (const RedisCommand& c : RedisCommands()) {
    EXPECT_NE(c.handler, nullptr) << c.name;
    EXPECT_NE(c.arity, 0) << c.name;
  }
}

}  // namespace
}  // namespace quorumkv

namespace quorumkv {
namespace {

TEST(KeyHashTest, DirectoriesWithoutAKeyHashMapByXxh3) {
  // What clusters created before Redis's slots stored: no key_hash.
  Directory old;
  old.set_partitions(64);
  const DirectoryView before(old);
  Directory slots = old;
  slots.set_key_hash(KEY_HASH_REDIS_SLOTS);
  const DirectoryView now(slots);
  for (const std::string key : {"a", "user:1", "{tag}x", "greeting"}) {
    EXPECT_EQ(before.PartitionOf(key), PartitionOf(key, 64)) << key;
    EXPECT_EQ(now.PartitionOf(key), PartitionOfSlot(RedisSlot(key), 64)) << key;
  }
}

TEST(KeyHashTest, AStoredClusterKeepsItsKeyHash) {
  TempDir dir;
  SoleMaster leadership;
  {
    auto store = LocalDirectoryStore::Open(dir.Sub("master"));
    ASSERT_TRUE(store.ok()) << store.status();
    Directory old;  // saved by a version without key hashes
    old.set_epoch(3);
    old.set_partitions(16);
    old.set_replication(3);
    ASSERT_TRUE((*store)->Save(old).ok());
  }
  auto store = LocalDirectoryStore::Open(dir.Sub("master"));
  ASSERT_TRUE(store.ok());
  auto manager = DirectoryManager::Create(store->get(), &leadership, 16, 3,
                                          KEY_HASH_REDIS_SLOTS, 3, {});
  ASSERT_TRUE(manager.ok()) << manager.status();
  EXPECT_EQ((*manager)->Get()->proto().key_hash(), KEY_HASH_XXH3);
  // A new cluster takes the one asked for.
  auto fresh_store = LocalDirectoryStore::Open(dir.Sub("fresh"));
  ASSERT_TRUE(fresh_store.ok());
  auto fresh = DirectoryManager::Create(fresh_store->get(), &leadership, 16, 3,
                                        KEY_HASH_REDIS_SLOTS, 3, {});
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)->Get()->proto().key_hash(), KEY_HASH_REDIS_SLOTS);
}

}  // namespace
}  // namespace quorumkv
