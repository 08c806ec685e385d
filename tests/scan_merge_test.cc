// A scan page merged from R replicas' pages (storage_node/scan_merge.h),
// over the shapes a page can take: replicas that stopped early at
// different keys, rows one replica lacks, newer versions and expiries on
// either side, tombstones, and more live keys than the page holds.
#include "storage_node/scan_merge.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace quorumkv {
namespace {

StreamedRow Row(const std::string& key, uint64_t wall, const std::string& value,
                bool tombstone = false, int64_t expires_at_ms = 0) {
  StreamedRow row;
  row.set_key(key);
  row.mutable_value()->mutable_version()->set_wall_ms(wall);
  row.mutable_value()->set_value(value);
  row.mutable_value()->set_tombstone(tombstone);
  row.mutable_value()->set_expires_at_ms(expires_at_ms);
  return row;
}

RangeResponse Page(std::vector<StreamedRow> rows, bool truncated) {
  RangeResponse page;
  for (StreamedRow& row : rows) *page.add_rows() = std::move(row);
  page.set_truncated(truncated);
  return page;
}

std::vector<std::string> Keys(const ScanResponse& response) {
  std::vector<std::string> keys;
  for (const ScannedKey& item : response.items()) keys.push_back(item.key());
  return keys;
}

TEST(ScanMergeTest, CompletePagesGiveEveryLiveKeyNewestFirst) {
  const ScanResponse merged = MergeScanPages(
      {Page({Row("a", 1, "old"), Row("b", 5, "b"), Row("d", 3, "", true)}, false),
       Page({Row("a", 2, "new"), Row("c", 1, "c"), Row("d", 2, "alive")}, false)},
      10, 100);
  EXPECT_TRUE(merged.done());
  EXPECT_EQ(Keys(merged), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(merged.items(0).value(), "new");
}

TEST(ScanMergeTest, APageEndsWhereTheFirstReplicaStopped) {
  // Replica 1 stopped after "c"; replica 2 after "e": only keys up to "c"
  // were seen by both, so the page ends there and resumes after "c".
  const ScanResponse merged = MergeScanPages(
      {Page({Row("a", 1, "a"), Row("c", 1, "c")}, true),
       Page({Row("b", 1, "b"), Row("d", 1, "d"), Row("e", 1, "e")}, true)},
      10, 100);
  EXPECT_FALSE(merged.done());
  EXPECT_EQ(Keys(merged), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(merged.resume_after(), "c");
}

TEST(ScanMergeTest, ExpiredAndDeletedRowsCountAsGoneButStillMoveThePage) {
  // Nothing live in the page: no items, and the next page starts past it.
  const ScanResponse merged = MergeScanPages(
      {Page({Row("a", 1, "", true), Row("b", 1, "x", false, 50)}, true)}, 2, 100);
  EXPECT_EQ(merged.items_size(), 0);
  EXPECT_EQ(merged.resume_after(), "b");
  // An expiry known to one replica only (set by a later expire) applies
  // to the other's copy.
  StreamedRow expired = Row("k", 1, "v", false, 50);
  expired.mutable_value()->mutable_expiry_version()->set_wall_ms(2);
  const ScanResponse expiring = MergeScanPages(
      {Page({Row("k", 1, "v")}, false), Page({expired}, false)}, 5, 100);
  EXPECT_EQ(expiring.items_size(), 0);
  EXPECT_TRUE(expiring.done());
}

TEST(ScanMergeTest, MoreLiveKeysThanTheLimitResumeAfterTheLastGiven) {
  const ScanResponse merged = MergeScanPages(
      {Page({Row("a", 1, "a"), Row("b", 1, "b"), Row("c", 1, "c")}, false),
       Page({Row("a", 1, "a"), Row("bb", 1, "bb"), Row("c", 1, "c")}, false)},
      2, 100);
  EXPECT_EQ(Keys(merged), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(merged.done());
  EXPECT_EQ(merged.resume_after(), "b");
}

}  // namespace
}  // namespace quorumkv
