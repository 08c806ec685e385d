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

TEST(MasterSetTest, RecursiveRequestsGoRoundEveryMaster) {
  auto set = Set("127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002");
  ASSERT_NE(set, nullptr);
  std::map<size_t, int> picked;
  for (int i = 0; i < 30; ++i) ++picked[set->NextRelay()];
  EXPECT_EQ(picked, (std::map<size_t, int>{{0, 10}, {1, 10}, {2, 10}}));
}

TEST(MasterSetTest, AMasterThatFailedRestsWhileOthersAnswer) {
  auto set = Set("127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002");
  ASSERT_NE(set, nullptr);
  set->RelayFailed(1);
  std::map<size_t, int> picked;
  for (int i = 0; i < 20; ++i) ++picked[set->NextRelay()];
  EXPECT_EQ(picked, (std::map<size_t, int>{{0, 10}, {2, 10}}));
  // Every one failed: requests still go somewhere, in turn.
  set->RelayFailed(0);
  set->RelayFailed(2);
  picked.clear();
  for (int i = 0; i < 30; ++i) ++picked[set->NextRelay()];
  EXPECT_EQ(picked, (std::map<size_t, int>{{0, 10}, {1, 10}, {2, 10}}));
}

}  // namespace
}  // namespace quorumkv
