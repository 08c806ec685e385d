// The list of masters every client, node and standby takes (--master=a,b,c):
// what it refuses, and how recursive requests go round the masters.
#include "common/master_set.h"

#include <map>
#include <string>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

std::unique_ptr<MasterSet> Set(const std::string& list) {
  absl::StatusOr<std::unique_ptr<MasterSet>> set =
      MasterSet::Create("--master", list, ChannelSecurity{});
  EXPECT_TRUE(set.ok()) << set.status();
  return set.ok() ? *std::move(set) : nullptr;
}

TEST(MasterSetTest, ABadListIsRefusedNamingTheFlagAndTheAddress) {
  struct Case {
    const char* list;
    const char* names;
  };
  for (const Case& c : {Case{"", "--master"},
                        Case{"127.0.0.1:7000,,127.0.0.1:7001", "empty"},
                        Case{"127.0.0.1:7000,127.0.0.1", "127.0.0.1"},
                        Case{"127.0.0.1:7000,127.0.0.1:99999", "99999"},
                        Case{"127.0.0.1:7000,127.0.0.1:7000", "127.0.0.1:7000"}}) {
    SCOPED_TRACE(c.list);
    absl::StatusOr<std::unique_ptr<MasterSet>> set =
        MasterSet::Create("--master", c.list, ChannelSecurity{});
    ASSERT_FALSE(set.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(set.status())) << set.status();
    EXPECT_NE(set.status().message().find("--master"), std::string::npos)
        << set.status();
    EXPECT_NE(set.status().message().find(c.names), std::string::npos)
        << set.status();
  }
  auto set = Set(" 127.0.0.1:7000 , 127.0.0.1:7001");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->size(), 2u);
  EXPECT_EQ(set->address(1), "127.0.0.1:7001");
}

TEST(MasterSetTest, RecursiveRequestsStayOnOneMasterAndClientsSpread) {
  const std::string list = "127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002";
  auto set = Set(list);
  ASSERT_NE(set, nullptr);
  const size_t first = set->NextRelay();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(set->NextRelay(), first);
  // Sets start on a master picked at random: 60 clients use all three.
  std::map<size_t, int> picked;
  for (int i = 0; i < 60; ++i) ++picked[Set(list)->NextRelay()];
  EXPECT_EQ(picked.size(), 3u);
}

TEST(MasterSetTest, AMasterThatFailedRestsWhileOthersAnswer) {
  auto set = Set("127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002");
  ASSERT_NE(set, nullptr);
  const size_t first = set->NextRelay();
  set->RelayFailed(first);
  const size_t second = set->NextRelay();
  EXPECT_EQ(second, (first + 1) % 3);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(set->NextRelay(), second);
  // The second fails too: the third, not the first, which rests.
  set->RelayFailed(second);
  const size_t third = set->NextRelay();
  EXPECT_EQ(third, (first + 2) % 3);
  // Every one failed: each failure moves requests on to the next in turn.
  set->RelayFailed(third);
  EXPECT_EQ(set->NextRelay(), first);
  set->RelayFailed(first);
  EXPECT_EQ(set->NextRelay(), second);
}

}  // namespace
}  // namespace quorumkv
