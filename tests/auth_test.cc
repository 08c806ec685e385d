// Tokens (--auth_token_file) on an in-process cluster of real servers: data
// requests need a data or admin token, admin requests an admin token, the
// daemons reach each other with theirs; each refusal has its exact code and
// never echoes a token.
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/auth_tokens.h"
#include "common/logging.h"
#include "tests/mini_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

constexpr char kDataToken[] = "data-token-0123456789abcdef";
constexpr char kAdminToken[] = "admin-token-0123456789abcdef";

class AuthTest : public ::testing::TestWithParam<QueryMode> {
 protected:
  static void SetUpTestSuite() { SetMinLogSeverity(LogSeverity::WARNING); }

  void SetUp() override {
    const std::string file = dir_.Sub("tokens");
    std::ofstream(file) << "# who may do what\n"
                        << "data " << kDataToken << "\n"
                        << "admin " << kAdminToken << "\n";
    MiniClusterOptions options;
    options.auth_token_file = file;
    cluster_ = std::make_unique<MiniCluster>(options);
    ASSERT_OK(cluster_->Start());
  }

  std::unique_ptr<Client> ClientWith(const std::string& token) {
    ClientOptions options;
    options.master = cluster_->master_address();
    options.mode = GetParam();
    options.token = token;
    options.timeout = absl::Seconds(3);
    auto client = Client::Create(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  TempDir dir_;
  std::unique_ptr<MiniCluster> cluster_;
};

TEST_P(AuthTest, DataNeedsAToken) {
  for (const std::string token : {"", "not-a-token-of-this-cluster"}) {
    auto client = ClientWith(token);
    ASSERT_NE(client, nullptr);
    absl::Status put = client->Put("k", "v").status();
    EXPECT_TRUE(absl::IsUnauthenticated(put)) << put;
    if (!token.empty()) {
      EXPECT_EQ(put.message().find(token), std::string::npos);
    }
    absl::Status get = client->Get("k").status();
    EXPECT_TRUE(absl::IsUnauthenticated(get)) << get;
    absl::Status nodes = client->Nodes().status();
    EXPECT_TRUE(absl::IsUnauthenticated(nodes)) << nodes;
  }
}

TEST_P(AuthTest, DataTokenReadsAndWritesButAdministersNothing) {
  auto client = ClientWith(kDataToken);
  ASSERT_NE(client, nullptr);
  // W=3: every replica accepted the coordinator's call with the node's own
  // token.
  RequestOptions all;
  all.w = 3;
  ASSERT_OK(client->Put("k", "v", all));
  absl::StatusOr<ReadResult> read = client->Get("k");
  ASSERT_OK(read);
  EXPECT_EQ(read->value, "v");
  ASSERT_OK(client->Nodes());
  absl::Status plan = client->Plan().status();
  EXPECT_TRUE(absl::IsPermissionDenied(plan)) << plan;
  absl::Status drain =
      client->Decommission(cluster_->node(0)->id(), /*dry_run=*/true).status();
  EXPECT_TRUE(absl::IsPermissionDenied(drain)) << drain;
  EXPECT_EQ(drain.message().find(kDataToken), std::string::npos);
}

TEST_P(AuthTest, AdminTokenDoesEverything) {
  auto client = ClientWith(kAdminToken);
  ASSERT_NE(client, nullptr);
  ASSERT_OK(client->Put("k", "v"));
  ASSERT_OK(client->Get("k"));
  ASSERT_OK(client->Plan());
  // Allowed, and answered on its merits: three racks cannot lose one.
  absl::Status drain =
      client->Decommission(cluster_->node(0)->id(), /*dry_run=*/true).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(drain)) << drain;
}

QKV_INSTANTIATE_IN_BOTH_MODES(AuthTest);

TEST(TokenFileTest, BadLinesAreNamedWithoutTheirTokens) {
  auto parsed = TokenSet::Parse("data secret-token-0123456789\nroot other-0123456789abc\n",
                                "tokens.txt");
  ASSERT_FALSE(parsed.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(parsed.status()));
  EXPECT_NE(parsed.status().message().find("tokens.txt line 2"), std::string::npos)
      << parsed.status();
  EXPECT_EQ(parsed.status().message().find("other-0123456789abc"), std::string::npos);
  EXPECT_FALSE(TokenSet::Parse("data short\nadmin a-long-enough-token-1\n", "f").ok());
  // The daemons need an admin token to call each other.
  EXPECT_FALSE(TokenSet::Parse("data a-long-enough-token-1\n", "f").ok());

  auto tokens = TokenSet::Parse("data a-long-enough-token-1\nadmin b-long-enough-token-2\n", "f");
  ASSERT_OK(tokens);
  EXPECT_OK(tokens->Check("a-long-enough-token-1", Role::kData));
  EXPECT_TRUE(absl::IsPermissionDenied(tokens->Check("a-long-enough-token-1", Role::kAdmin)));
  EXPECT_OK(tokens->Check("b-long-enough-token-2", Role::kAdmin));
  EXPECT_TRUE(absl::IsUnauthenticated(tokens->Check("", Role::kData)));
  EXPECT_TRUE(absl::IsUnauthenticated(tokens->Check("a-long-enough-token-", Role::kData)));
  EXPECT_TRUE(absl::IsUnauthenticated(tokens->Check("a-long-enough-token-10", Role::kData)));
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("Basic abc"), "");
}

TEST(TokenFileTest, AMissingTokenFileStopsTheDaemon) {
  TempDir dir;
  MasterOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = dir.Sub("master");
  options.auth_token_file = dir.Sub("no-such-file");
  auto master = Master::Start(options);
  ASSERT_FALSE(master.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(master.status())) << master.status();
  EXPECT_NE(master.status().message().find("--auth_token_file="), std::string::npos);
}

}  // namespace
}  // namespace quorumkv
