// The two registers of a row (storage_node/row_registers.h) over many
// shapes: every order of arrival of a put, a put with a TTL, an expire, a
// persist and a delete ends in the same row, and that row is what
// last-writer-wins per register says.
#include "storage_node/row_registers.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/hlc.h"
#include "gtest/gtest.h"
#include "storage_node/record.h"

namespace quorumkv {
namespace {

Version At(uint64_t wall_ms, const std::string& node = "n1") {
  Version v;
  v.set_wall_ms(wall_ms);
  v.set_node_id(node);
  return v;
}

VersionedValue Put(uint64_t at, const std::string& value,
                   int64_t expires_at_ms = 0) {
  VersionedValue row;
  *row.mutable_version() = At(at);
  row.set_value(value);
  row.set_expires_at_ms(expires_at_ms);
  return row;
}

VersionedValue Delete(uint64_t at) {
  VersionedValue row;
  *row.mutable_version() = At(at);
  row.set_tombstone(true);
  return row;
}

// `expire` (expires_at_ms > 0) or `persist` (0) at `at`.
VersionedValue Expire(uint64_t at, int64_t expires_at_ms) {
  VersionedValue row;
  row.set_tombstone(true);
  *row.mutable_expiry_version() = At(at, "n2");
  row.set_expires_at_ms(expires_at_ms);
  return row;
}

// What a replica holds after the rows arrive in this order, through the
// stored encoding, as the engine merges them.
VersionedValue Arrive(const std::vector<VersionedValue>& rows) {
  std::string stored;
  for (const VersionedValue& row : rows) {
    if (stored.empty()) {
      stored = EncodeRecord(row);
      continue;
    }
    auto header = DecodeRecordHeader(stored);
    EXPECT_TRUE(header.ok());
    const RegisterMerge merge = PlanMerge(*header, row);
    auto held = DecodeRecord(stored);
    EXPECT_TRUE(held.ok());
    // The header's plan and the decoded row's plan agree.
    const RegisterMerge again = PlanMerge(*held, row);
    EXPECT_EQ(merge.value, again.value);
    EXPECT_EQ(merge.expiry, again.expiry);
    stored = EncodeRecord(Merge(*held, row));
  }
  return *DecodeRecord(stored);
}

void ExpectSameRow(const VersionedValue& a, const VersionedValue& b) {
  EXPECT_TRUE(SameRegisters(a, b));
  EXPECT_EQ(a.tombstone(), b.tombstone());
  EXPECT_EQ(a.value(), b.value());
  EXPECT_EQ(a.expires_at_ms(), b.expires_at_ms());
}

// Every order of `rows` leaves the same row; returns it.
VersionedValue EveryOrder(std::vector<VersionedValue> rows) {
  std::vector<size_t> order(rows.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::optional<VersionedValue> first;
  do {
    std::vector<VersionedValue> arranged;
    for (size_t i : order) arranged.push_back(rows[i]);
    const VersionedValue held = Arrive(arranged);
    if (!first) {
      first = held;
    } else {
      ExpectSameRow(*first, held);
    }
  } while (std::next_permutation(order.begin(), order.end()));
  return *first;
}

TEST(RowRegistersTest, AnExpireAppliesToTheValueItFollowsAndNoOther) {
  // put v1 @10, expire @20 (at 500): v1 expires at 500.
  VersionedValue row = EveryOrder({Put(10, "v1"), Expire(20, 500)});
  EXPECT_EQ(row.value(), "v1");
  EXPECT_EQ(row.expires_at_ms(), 500);
  EXPECT_TRUE(LiveAt(row, 499));
  EXPECT_FALSE(LiveAt(row, 500));

  // A newer put @30 clears it, whatever the order they arrive in.
  row = EveryOrder({Put(10, "v1"), Expire(20, 500), Put(30, "v2")});
  EXPECT_EQ(row.value(), "v2");
  EXPECT_EQ(row.expires_at_ms(), 0);

  // An expire never revives a deleted value nor an older one.
  row = EveryOrder({Put(10, "v1"), Delete(15), Expire(20, 500)});
  EXPECT_TRUE(row.tombstone());
  EXPECT_FALSE(LiveAt(row, 0));

  // An expire older than the put it races with loses to it.
  row = EveryOrder({Expire(20, 500), Put(25, "newer")});
  EXPECT_EQ(row.value(), "newer");
  EXPECT_EQ(row.expires_at_ms(), 0);
  EXPECT_TRUE(LiveAt(row, 1'000'000));
}

TEST(RowRegistersTest, PersistAndPutWithTtlAreRegistersLikeAnyOther) {
  // put with TTL, then persist: no expiry.
  VersionedValue row = EveryOrder({Put(10, "v", 100), Expire(20, 0)});
  EXPECT_EQ(row.expires_at_ms(), 0);
  EXPECT_TRUE(LiveAt(row, 1'000'000));
  // persist, then a later expire: the expire wins.
  row = EveryOrder({Put(10, "v"), Expire(20, 0), Expire(30, 700)});
  EXPECT_EQ(row.expires_at_ms(), 700);
  // A put with a TTL after an expire: the put's own TTL.
  row = EveryOrder({Expire(20, 700), Put(30, "v", 900)});
  EXPECT_EQ(row.expires_at_ms(), 900);
  EXPECT_EQ(row.value(), "v");
}

TEST(RowRegistersTest, ManyShapesConvergeWhateverTheArrivalOrder) {
  // Five writes of a key at distinct times, all orders (120 each), for
  // several interleavings of kinds: every replica ends with the row that
  // holds the newest value and the newest expiry.
  const std::vector<std::vector<VersionedValue>> shapes = {
      {Put(10, "a"), Expire(11, 50), Put(12, "b", 60), Expire(13, 0),
       Delete(14)},
      {Expire(10, 40), Put(11, "a"), Expire(12, 45), Put(13, "b"),
       Expire(14, 70)},
      {Delete(10), Expire(11, 40), Put(12, "a", 30), Expire(13, 80),
       Put(9, "old")},
  };
  for (const auto& shape : shapes) {
    const VersionedValue row = EveryOrder(shape);
    // The newest value register and the newest expiry register, by hand.
    const VersionedValue* value = nullptr;
    const VersionedValue* expiry = nullptr;
    for (const VersionedValue& w : shape) {
      if (value == nullptr || VersionLess(value->version(), w.version())) {
        value = &w;
      }
      if (expiry == nullptr ||
          VersionLess(ExpiryVersionOf(*expiry), ExpiryVersionOf(w))) {
        expiry = &w;
      }
    }
    EXPECT_EQ(row.tombstone(), value->tombstone());
    EXPECT_EQ(row.value(), value->value());
    EXPECT_EQ(row.expires_at_ms(), expiry->expires_at_ms());
  }
}

TEST(RowRegistersTest, RowsWithoutAnExpiryKeepTheFirstFormat) {
  const std::string plain = EncodeRecord(Put(10, "v"));
  EXPECT_EQ(plain[0], 1);
  const std::string expiring = EncodeRecord(Put(10, "v", 99));
  EXPECT_EQ(expiring[0], 2);
  auto header = DecodeRecordHeader(expiring);
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->expires_at_ms, 99);
  EXPECT_EQ(header->value_bytes, 1u);
  EXPECT_TRUE(ExpiredAt(*header, 99));
  EXPECT_FALSE(ExpiredAt(*header, 98));
  // Truncated expiry bytes are corruption, never a crash.
  for (size_t cut = 17; cut < expiring.size() - 1; ++cut) {
    auto partial = DecodeRecordHeader(expiring.substr(0, cut));
    if (partial.ok()) {
      EXPECT_LE(partial->value_bytes, expiring.size());
    }
  }
  EXPECT_FALSE(DecodeRecordHeader(expiring.substr(0, 20)).ok());
}

}  // namespace
}  // namespace quorumkv
