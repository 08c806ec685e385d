#include "storage_node/engine.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage_node/record.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

VersionedValue Value(uint64_t wall, const std::string& bytes,
                     bool tombstone = false, const std::string& node = "n1") {
  VersionedValue v;
  v.mutable_version()->set_wall_ms(wall);
  v.mutable_version()->set_node_id(node);
  v.set_tombstone(tombstone);
  v.set_value(bytes);
  return v;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    engine_.reset();
    auto opened = Engine::Open(dir_.Sub("db"));
    ASSERT_OK(opened);
    engine_ = *std::move(opened);
  }
  TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, PutGetRoundTrip) {
  EXPECT_TRUE(absl::IsNotFound(engine_->Read(1, "k").status()));
  ASSERT_OK(engine_->Apply(1, "k", Value(10, "hello")));
  auto read = engine_->Read(1, "k");
  ASSERT_OK(read);
  EXPECT_EQ(read->value(), "hello");
  EXPECT_EQ(read->version().wall_ms(), 10u);
  EXPECT_FALSE(read->tombstone());
  // Partitions are separate key spaces.
  EXPECT_TRUE(absl::IsNotFound(engine_->Read(2, "k").status()));
}

TEST_F(EngineTest, HighestVersionWinsWhateverTheArrivalOrder) {
  auto applied = engine_->Apply(1, "k", Value(20, "new"));
  ASSERT_OK(applied);
  EXPECT_TRUE(*applied);
  applied = engine_->Apply(1, "k", Value(10, "old"));  // arrives late
  ASSERT_OK(applied);
  EXPECT_FALSE(*applied);
  EXPECT_EQ(engine_->Read(1, "k")->value(), "new");
  // An equal version changes nothing either.
  EXPECT_FALSE(*engine_->Apply(1, "k", Value(20, "other")));
  EXPECT_EQ(engine_->Read(1, "k")->value(), "new");
  // Node id breaks ties on equal timestamps.
  EXPECT_TRUE(*engine_->Apply(1, "k", Value(20, "tie", false, "n2")));
  EXPECT_EQ(engine_->Read(1, "k")->value(), "tie");
}

TEST_F(EngineTest, TombstoneHidesValueAndBlocksOlderWrites) {
  ASSERT_OK(engine_->Apply(1, "k", Value(10, "v")));
  ASSERT_OK(engine_->Apply(1, "k", Value(20, "", /*tombstone=*/true)));
  auto read = engine_->Read(1, "k");
  ASSERT_OK(read);
  EXPECT_TRUE(read->tombstone());
  // A replica that missed the delete cannot resurrect the value.
  EXPECT_FALSE(*engine_->Apply(1, "k", Value(15, "v")));
  EXPECT_TRUE(engine_->Read(1, "k")->tombstone());
  // A newer write does.
  EXPECT_TRUE(*engine_->Apply(1, "k", Value(30, "back")));
  EXPECT_EQ(engine_->Read(1, "k")->value(), "back");
}

TEST_F(EngineTest, StatsCountLiveKeysAndSurviveReopen) {
  ASSERT_OK(engine_->Apply(3, "a", Value(1, "12345")));
  ASSERT_OK(engine_->Apply(3, "b", Value(1, "xy")));
  ASSERT_OK(engine_->Apply(4, "c", Value(1, "z")));
  ASSERT_OK(engine_->Apply(3, "b", Value(2, "", true)));  // delete b
  ASSERT_OK(engine_->Apply(3, "a", Value(3, "1")));       // shrink a
  auto check = [&] {
    auto stats = engine_->Stats();
    EXPECT_EQ(stats[3].keys, 1u);
    EXPECT_EQ(stats[3].bytes, 2u);  // "a" + "1"
    EXPECT_EQ(stats[4].keys, 1u);
    EXPECT_EQ(stats[4].bytes, 2u);
  };
  check();
  Reopen();
  check();
  EXPECT_EQ(engine_->Read(3, "a")->value(), "1");
}

TEST_F(EngineTest, ApplyManyKeepsTheNewestOfEachKeyAndCountsOnce) {
  ASSERT_OK(engine_->Apply(1, "k", Value(5, "stored")));
  const VersionedValue older = Value(4, "older"), v10 = Value(10, "ten"),
                       v7 = Value(7, "seven"), v12 = Value(12, "twelve!"),
                       other = Value(1, "x");
  // Against the stored row, then against each other within one call.
  const std::vector<RowWrite> rows = {{1, "k", &older}, {1, "k", &v10},
                                      {1, "k", &v7},    {1, "k", &v12},
                                      {2, "o", &other}};
  std::vector<bool> stored;
  ASSERT_OK(engine_->ApplyMany(rows, &stored));
  EXPECT_EQ(stored, (std::vector<bool>{false, true, false, true, true}));
  EXPECT_EQ(engine_->Read(1, "k")->value(), "twelve!");
  auto stats = engine_->Stats();
  EXPECT_EQ(stats[1].keys, 1u);
  EXPECT_EQ(stats[1].bytes, 8u);  // "k" + "twelve!"
  EXPECT_EQ(stats[2].keys, 1u);
  Reopen();
  EXPECT_EQ(engine_->Stats()[1].bytes, 8u);
}

TEST_F(EngineTest, DroppedPartitionsStayDroppedInTheStatistics) {
  ASSERT_OK(engine_->Apply(3, "a", Value(1, "12345")));
  ASSERT_OK(engine_->Apply(4, "b", Value(1, "1")));
  ASSERT_OK(engine_->DropPartition(3));
  Reopen();
  auto stats = engine_->Stats();
  EXPECT_FALSE(stats.contains(3));
  EXPECT_EQ(stats[4].keys, 1u);
  // Writes after the drop count from zero.
  ASSERT_OK(engine_->Apply(3, "c", Value(2, "xy")));
  Reopen();
  EXPECT_EQ(engine_->Stats()[3].keys, 1u);
  EXPECT_EQ(engine_->Stats()[3].bytes, 3u);
}

TEST_F(EngineTest, ADatabaseWithoutStoredStatisticsIsCountedOnce) {
  // The layout before statistics were stored: rows and hints only.
  const std::string path = dir_.Sub("older");
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {"hints", rocksdb::ColumnFamilyOptions()}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, path, families, &handles,
                                  &raw)
                    .ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[0],
                        EncodeRowKey(9, "old"), EncodeRecord(Value(1, "abc")))
                    .ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[0],
                        EncodeRowKey(9, "gone"),
                        EncodeRecord(Value(1, "", /*tombstone=*/true)))
                    .ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
  auto older = Engine::Open(path);
  ASSERT_OK(older);
  EXPECT_EQ((*older)->Stats()[9].keys, 1u);
  EXPECT_EQ((*older)->Stats()[9].bytes, 6u);  // "old" + "abc"
  ASSERT_OK((*older)->Apply(9, "new", Value(2, "z")));
  older->reset();
  older = Engine::Open(path);
  ASSERT_OK(older);
  EXPECT_EQ((*older)->Stats()[9].keys, 2u);
}

TEST_F(EngineTest, HintsAreDurableAndOrdered) {
  for (int i = 0; i < 3; ++i) {
    ApplyRequest request;
    request.set_key("k" + std::to_string(i));
    *request.mutable_value() = Value(i + 1, "v");
    ASSERT_OK(engine_->hints().Add({{"nodeB", request}}));
  }
  ApplyRequest other;
  other.set_key("x");
  *other.mutable_value() = Value(1, "v");
  ASSERT_OK(engine_->hints().Add({{"nodeA", other}}));
  Reopen();
  EXPECT_EQ(engine_->hints().pending(), 4u);
  EXPECT_EQ(engine_->hints().Targets(),
            (std::vector<std::string>{"nodeA", "nodeB"}));
  auto hints = engine_->hints().Peek("nodeB", 10);
  ASSERT_EQ(hints.size(), 3u);
  EXPECT_EQ(hints[0].request.key(), "k0");
  EXPECT_EQ(hints[2].request.key(), "k2");
  ASSERT_OK(engine_->hints().Remove({hints[0]}));
  EXPECT_EQ(engine_->hints().Peek("nodeB", 10).size(), 2u);
  EXPECT_EQ(engine_->hints().pending(), 3u);
}

// docs/failures.md: a replica that has missed writes for longer than the hint
// window gets no new hints, hints older than it expire, and no replica gets
// more than max_bytes_per_target.
TEST(HintLimitsTest, WindowAndBytesBoundWhatIsKept) {
  TempDir dir;
  absl::Time now = absl::FromUnixSeconds(1'000'000);
  HintLimits limits;
  limits.window = absl::Hours(3);
  limits.max_bytes_per_target = 1000;
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(db_options, dir.Sub("db"), &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  auto request = [&](const std::string& key, size_t value_bytes) {
    ApplyRequest r;
    r.set_key(key);
    r.mutable_value()->set_value(std::string(value_bytes, 'v'));
    r.mutable_value()->mutable_version()->set_wall_ms(absl::ToUnixMillis(now));
    return r;
  };
  HintStore store(db.get(), db->DefaultColumnFamily(), limits,
                  [&] { return now; });
  ASSERT_OK(store.Add({{"slow", request("a", 400)}, {"slow", request("b", 400)},
                       {"slow", request("c", 400)}, {"other", request("d", 10)}}));
  EXPECT_EQ(store.pending(), 3u);  // the third 400 B hint passes 1000 B
  EXPECT_EQ(store.dropped(), 1u);
  // Four hours on, "slow" still has hints from then: it gets no new ones,
  // and those it has are past the window.
  now += absl::Hours(4);
  ASSERT_OK(store.Add({{"slow", request("e", 1)}}));
  EXPECT_EQ(store.pending(), 3u);
  EXPECT_EQ(store.dropped(), 2u);
  std::vector<HintStore::Hint> old = store.Peek("slow", 10);
  ASSERT_EQ(old.size(), 2u);
  EXPECT_TRUE(store.Expired(old[0]));
  // Once they are gone (replayed or dropped) it gets hints again.
  ASSERT_OK(store.Remove(old));
  ASSERT_OK(store.Add({{"slow", request("f", 1)}}));
  EXPECT_EQ(store.Peek("slow", 10).size(), 1u);
  EXPECT_FALSE(store.Expired(store.Peek("slow", 10)[0]));
}

// Tombstones go once past the grace period and repaired everywhere.
TEST(EngineGraceTest, CompactionPurgesOnlyTombstonesPastTheGrace) {
  TempDir dir;
  EngineOptions options;
  options.tombstone_grace = absl::Hours(1);
  auto engine = Engine::Open(dir.Sub("db"), options);
  ASSERT_OK(engine);
  const uint64_t now_ms = absl::ToUnixMillis(absl::Now());
  const uint64_t two_hours_ago = now_ms - 2 * 3600 * 1000;
  ASSERT_OK((*engine)->Apply(1, "old-delete", Value(two_hours_ago, "", true)));
  ASSERT_OK((*engine)->Apply(1, "new-delete", Value(now_ms, "", true)));
  ASSERT_OK((*engine)->Apply(1, "old-value", Value(two_hours_ago, "v")));
  // Past the grace, but no anti-entropy pass has shown every replica holds
  // it: kept.
  ASSERT_OK((*engine)->Compact());
  EXPECT_TRUE((*engine)->Read(1, "old-delete")->tombstone());
  // A pass of another partition changes nothing here.
  (*engine)->SetRepairedBefore(2, absl::Now());
  ASSERT_OK((*engine)->Compact());
  EXPECT_TRUE((*engine)->Read(1, "old-delete")->tombstone());
  (*engine)->SetRepairedBefore(1, absl::Now());
  ASSERT_OK((*engine)->Compact());
  EXPECT_TRUE(absl::IsNotFound((*engine)->Read(1, "old-delete").status()));
  auto young = (*engine)->Read(1, "new-delete");
  ASSERT_OK(young);
  EXPECT_TRUE(young->tombstone());
  EXPECT_EQ((*engine)->Read(1, "old-value")->value(), "v");
}

TEST(RecordTest, RoundTripsAndRejectsGarbage) {
  VersionedValue v = Value(123456789012ULL, std::string("\0bin\xff", 5));
  v.mutable_version()->set_logical(77);
  auto decoded = DecodeRecord(EncodeRecord(v));
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->SerializeAsString(), v.SerializeAsString());
  EXPECT_TRUE(absl::IsDataLoss(DecodeRecord("x").status()));
  uint32_t partition;
  absl::string_view key;
  const std::string row = EncodeRowKey(70000, "key");
  ASSERT_TRUE(DecodeRowKey(row, &partition, &key));
  EXPECT_EQ(partition, 70000u);
  EXPECT_EQ(key, "key");
}

// A streamed chunk never overwrites a newer direct write; the partition's
// scan returns what was applied; a dropped partition is gone, stats too.
TEST_F(EngineTest, StreamedChunksApplyByVersionAndPartitionsDrop) {
  ASSERT_OK(engine_->Apply(3, "newer-here", Value(50, "direct")));
  ASSERT_OK(engine_->Apply(3, "older-here", Value(5, "stale")));
  ASSERT_OK(engine_->Apply(4, "other", Value(1, "untouched")));
  PartitionChunk chunk;
  auto add = [&](const std::string& key, const VersionedValue& value) {
    StreamedRow* row = chunk.add_rows();
    row->set_key(key);
    *row->mutable_value() = value;
  };
  add("newer-here", Value(40, "streamed"));
  add("older-here", Value(10, "streamed"));
  add("fresh", Value(10, "streamed"));
  add("gone", Value(10, "", /*tombstone=*/true));
  auto stored = engine_->ApplyBatch(3, chunk.rows());
  ASSERT_OK(stored);
  EXPECT_EQ(*stored, 3u);
  EXPECT_EQ(engine_->Read(3, "newer-here")->value(), "direct");
  EXPECT_EQ(engine_->Read(3, "older-here")->value(), "streamed");
  EXPECT_EQ(engine_->Read(3, "fresh")->value(), "streamed");
  EXPECT_TRUE(engine_->Read(3, "gone")->tombstone());
  EXPECT_EQ(engine_->Stats()[3].keys, 3u);  // the tombstone is no live key

  // A scan in small chunks sees every row of the partition once, in order.
  auto scan = engine_->ScanPartition(3, "");
  std::vector<std::string> keys;
  for (int guard = 0; guard < 10; ++guard) {
    PartitionChunk out;
    auto more = scan->Next(/*max_bytes=*/1, &out);
    ASSERT_OK(more);
    for (const StreamedRow& row : out.rows()) keys.push_back(row.key());
    if (!*more) break;
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"fresh", "gone", "newer-here",
                                            "older-here"}));
  // Resuming after a key skips it and what came before.
  PartitionChunk rest;
  ASSERT_OK(engine_->ScanPartition(3, "gone")->Next(1 << 20, &rest));
  ASSERT_EQ(rest.rows_size(), 2);
  EXPECT_EQ(rest.rows(0).key(), "newer-here");

  EXPECT_TRUE(engine_->HasRows(3));
  ASSERT_OK(engine_->DropPartition(3));
  EXPECT_FALSE(engine_->HasRows(3));
  EXPECT_TRUE(absl::IsNotFound(engine_->Read(3, "fresh").status()));
  EXPECT_EQ(engine_->Stats().count(3), 0u);
  EXPECT_EQ(engine_->Read(4, "other")->value(), "untouched");
}

}  // namespace
}  // namespace quorumkv

namespace quorumkv {
namespace {

VersionedValue ExpireOnly(uint64_t at, int64_t expires_at_ms) {
  VersionedValue row;
  row.set_tombstone(true);
  row.mutable_expiry_version()->set_wall_ms(at);
  row.mutable_expiry_version()->set_node_id("n2");
  row.set_expires_at_ms(expires_at_ms);
  return row;
}

// An expire merges with the value it finds, in one call or across calls,
// and the statistics count the value once.
TEST_F(EngineTest, AnExpireMergesWithTheValueAndCountsNothingTwice) {
  ASSERT_OK(engine_->Apply(1, "k", Value(10, "v")));
  ASSERT_TRUE(*engine_->Apply(1, "k", ExpireOnly(20, 12345)));
  auto read = engine_->Read(1, "k");
  ASSERT_OK(read);
  EXPECT_EQ(read->value(), "v");
  EXPECT_EQ(read->expires_at_ms(), 12345);
  // The same expire again changes nothing; an older put changes nothing.
  EXPECT_FALSE(*engine_->Apply(1, "k", ExpireOnly(20, 12345)));
  EXPECT_FALSE(*engine_->Apply(1, "k", Value(5, "older")));
  EXPECT_EQ(engine_->Stats()[1].keys, 1u);
  EXPECT_EQ(engine_->Stats()[1].bytes, 2u);

  // An expire of a key never written, then its value, in one batch.
  const VersionedValue expire = ExpireOnly(30, 999);
  const VersionedValue value = Value(25, "late");
  const std::vector<RowWrite> rows = {{2, "x", &expire}, {2, "x", &value}};
  std::vector<bool> stored;
  ASSERT_OK(engine_->ApplyMany(rows, &stored));
  EXPECT_EQ(stored, (std::vector<bool>{true, true}));
  read = engine_->Read(2, "x");
  ASSERT_OK(read);
  EXPECT_EQ(read->value(), "late");
  EXPECT_EQ(read->expires_at_ms(), 999);
  EXPECT_EQ(engine_->Stats()[2].keys, 1u);
  Reopen();  // the counts are stored, not only kept in memory
  EXPECT_EQ(engine_->Stats()[2].keys, 1u);
  EXPECT_EQ(engine_->Read(2, "x")->expires_at_ms(), 999);
}

// Expired values leave the disk only past the grace period and once every
// replica held them, and the statistics follow.
TEST(EngineGraceTest, ExpiredValuesArePurgedPastTheGraceOnceRepaired) {
  TempDir dir;
  EngineOptions options;
  options.tombstone_grace = absl::Hours(1);
  auto engine = Engine::Open(dir.Sub("db"), options);
  ASSERT_OK(engine);
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  const uint64_t three_hours_ago = now_ms - 3 * 3600 * 1000;
  VersionedValue long_expired = Value(three_hours_ago, "gone");
  long_expired.set_expires_at_ms(now_ms - 2 * 3600 * 1000);
  VersionedValue just_expired = Value(three_hours_ago, "kept a while");
  just_expired.set_expires_at_ms(now_ms - 1000);
  VersionedValue living = Value(three_hours_ago, "alive");
  living.set_expires_at_ms(now_ms + 3600 * 1000);
  ASSERT_OK((*engine)->Apply(1, "long-expired", long_expired));
  ASSERT_OK((*engine)->Apply(1, "just-expired", just_expired));
  ASSERT_OK((*engine)->Apply(1, "living", living));
  ASSERT_OK((*engine)->Apply(1, "plain", Value(three_hours_ago, "p")));
  EXPECT_EQ((*engine)->Stats()[1].keys, 4u);
  // No pass has shown every replica holds them: nothing goes.
  EXPECT_EQ(*(*engine)->PurgeExpired(1), 0u);
  EXPECT_TRUE((*engine)->TakeRepairedPartitions().empty());
  (*engine)->SetRepairedBefore(1, absl::Now());
  EXPECT_EQ((*engine)->TakeRepairedPartitions(), std::vector<uint32_t>{1});
  EXPECT_EQ(*(*engine)->PurgeExpired(1), 1u);
  ASSERT_OK((*engine)->Compact());
  EXPECT_TRUE(absl::IsNotFound((*engine)->Read(1, "long-expired").status()));
  EXPECT_OK((*engine)->Read(1, "just-expired"));
  EXPECT_EQ((*engine)->Read(1, "living")->value(), "alive");
  EXPECT_EQ((*engine)->Read(1, "plain")->value(), "p");
  EXPECT_EQ((*engine)->Stats()[1].keys, 3u);
  EXPECT_EQ((*engine)->Stats()[1].bytes,
            std::string("just-expired" "kept a while" "living" "alive" "plain" "p")
                .size());
}

TEST(EngineCacheTest, RepeatedReadsHitTheRamTierAndASmallOneEvicts) {
  TempDir dir;
  for (uint64_t cache : {uint64_t{64} << 20, uint64_t{64} << 10}) {
    EngineOptions options;
    options.cache_bytes = cache;
    auto engine = Engine::Open(dir.Sub(absl::StrCat("db", cache)), options);
    ASSERT_OK(engine);
    const std::string value(1024, 'v');
    for (int i = 0; i < 500; ++i) {
      ASSERT_OK((*engine)->Apply(1, absl::StrCat("k", i), Value(10, value)));
    }
    ASSERT_OK((*engine)->Flush());
    for (int round = 0; round < 2; ++round) {
      for (int i = 0; i < 500; ++i) {
        ASSERT_OK((*engine)->Read(1, absl::StrCat("k", i)));
      }
    }
    const Engine::CacheStats stats = (*engine)->Caches();
    SCOPED_TRACE(absl::StrCat("row hits ", stats.row.hits, " misses ", stats.row.misses,
                              " evictions ", stats.row.evictions, " bytes ", stats.row.bytes,
                              "; block hits ", stats.block.hits, " misses ",
                              stats.block.misses));
    EXPECT_EQ(stats.row.capacity + stats.block.capacity, cache);
    EXPECT_GE(stats.row.misses, 500u);
    EXPECT_GT(stats.row.bytes, 0u);
    EXPECT_LE(stats.row.bytes, stats.row.capacity + (64 << 10));
    if (cache > (1 << 20)) {
      // Everything fits: the second round is all hits.
      EXPECT_GE(stats.row.hits, 500u);
      EXPECT_EQ(stats.row.evictions, 0u);
    } else {
      // 500 KiB of rows through a 16 KiB row cache: most are evicted.
      EXPECT_GT(stats.row.evictions, 400u);
    }
  }
}

TEST(EngineCacheTest, TheDefaultFitsTheMachine) {
  const uint64_t memory = PhysicalMemoryBytes();
  ASSERT_GT(memory, 0u);
  EXPECT_LE(DefaultCacheBytes(), memory / 16);
  EXPECT_LE(DefaultCacheBytes(), uint64_t{1} << 30);
}

}  // namespace
}  // namespace quorumkv
