// The fault test: real processes (a master and six storage nodes on three
// racks), writers and readers in both query modes, and a nemesis that
// kill -9s nodes, a whole rack and the master, and pauses nodes (SIGSTOP).
// At the end every acknowledged write reads back at R=N, no quorum read
// returned a value older than one acknowledged before it began, and nothing
// was read that was never written. Bounded: about a minute.
#include <atomic>
#include <iostream>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "quorumkv/client.h"
#include "gtest/gtest.h"
#include "tests/process_cluster.h"
#include "tests/test_util.h"

namespace quorumkv {
namespace {

// One key's history, as its only writer knows it.
struct KeyHistory {
  std::atomic<int64_t> acknowledged{0};  // highest acknowledged sequence
  std::atomic<int64_t> attempted{0};     // highest sequence sent
};

struct Counts {
  std::atomic<int64_t> writes_ok{0}, writes_failed{0}, writes_refused{0};
  std::atomic<int64_t> reads_ok{0}, reads_failed{0};
  std::atomic<int64_t> stale_reads{0}, phantom_reads{0};
};

constexpr int kWritersPerMode = 2;
constexpr int kKeysPerWriter = 8;
constexpr int kReadersPerMode = 1;

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProcessClusterOptions options;
    options.bin_dir = QKV_BIN_DIR;
    options.master_flags = {"--node_down_after=2s", "--partitions=16",
                            "--anti_entropy_interval=2s"};
    options.node_flags = {"--heartbeat_interval=200ms"};
    cluster_ = std::make_unique<ProcessCluster>(options);
    ASSERT_OK(cluster_->Start());
    for (QueryMode mode : {QueryMode::kIterative, QueryMode::kRecursive}) {
      auto client = cluster_->NewClient(mode, absl::Seconds(2));
      ASSERT_OK(client);
      clients_.push_back(*std::move(client));
    }
  }

  static std::string KeyName(int mode, int writer, int k) {
    return absl::StrCat("fault-", mode, "-", writer, "-", k);
  }

  KeyHistory& History(const std::string& key) { return *history_.at(key); }

  // Writes increasing sequences to its own keys until `stop`.
  void Writer(int mode, int writer, const std::atomic<bool>& stop) {
    Client& client = *clients_[mode];
    int64_t sequence = 0;
    for (int round = 0; !stop && round < 100000; ++round) {
      const std::string key = KeyName(mode, writer, round % kKeysPerWriter);
      KeyHistory& h = History(key);
      ++sequence;
      h.attempted = sequence;
      auto result = client.Put(key, absl::StrCat(sequence));
      if (result.ok()) {
        h.acknowledged = sequence;
        ++counts_.writes_ok;
      } else if (auto q = GetQuorumFailure(result.status()); q && !q->attempted) {
        ++counts_.writes_refused;
      } else {
        ++counts_.writes_failed;
      }
    }
  }

  // Quorum reads of every mode's keys; checks each answer against what was
  // acknowledged before the read began and what was ever sent.
  void Reader(int mode, int seed, const std::atomic<bool>& stop) {
    Client& client = *clients_[mode];
    std::mt19937 random(seed);
    for (int i = 0; !stop && i < 100000; ++i) {
      const std::string key = KeyName(random() % 2, random() % kWritersPerMode,
                                      random() % kKeysPerWriter);
      KeyHistory& h = History(key);
      const int64_t acknowledged_before = h.acknowledged;
      auto read = client.Get(key);
      if (!read.ok() && !absl::IsNotFound(read.status())) {
        ++counts_.reads_failed;
        continue;
      }
      ++counts_.reads_ok;
      int64_t seen = 0;
      if (read.ok() && !absl::SimpleAtoi(read->value, &seen)) seen = -1;
      if (seen < acknowledged_before) {
        ++counts_.stale_reads;
        absl::MutexLock lock(&mu_);
        problems_.push_back(absl::StrCat(key, ": read ", seen, " after ",
                                         acknowledged_before,
                                         " was acknowledged"));
      }
      if (seen < 0 || seen > h.attempted) {
        ++counts_.phantom_reads;
        absl::MutexLock lock(&mu_);
        problems_.push_back(absl::StrCat(key, ": read ", seen,
                                         ", never written"));
      }
    }
  }

  // Waits until every node reports UP.
  bool AllUp(absl::Duration timeout) {
    return WaitFor(
        [&] {
          auto nodes = clients_[0]->Nodes();
          if (!nodes.ok()) return false;
          for (const NodeSummary& n : nodes->nodes) {
            if (n.node.state != "UP") return false;
          }
          return true;
        },
        timeout);
  }

  std::unique_ptr<ProcessCluster> cluster_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::map<std::string, std::unique_ptr<KeyHistory>> history_;
  Counts counts_;
  absl::Mutex mu_;
  std::vector<std::string> problems_ ABSL_GUARDED_BY(mu_);
};

TEST_F(FaultTest, AcknowledgedWritesSurviveKillsPausesAndTheMaster) {
  for (int mode = 0; mode < 2; ++mode) {
    for (int w = 0; w < kWritersPerMode; ++w) {
      for (int k = 0; k < kKeysPerWriter; ++k) {
        history_[KeyName(mode, w, k)] = std::make_unique<KeyHistory>();
      }
    }
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int mode = 0; mode < 2; ++mode) {
    for (int w = 0; w < kWritersPerMode; ++w) {
      threads.emplace_back([&, mode, w] { Writer(mode, w, stop); });
    }
    for (int r = 0; r < kReadersPerMode; ++r) {
      threads.emplace_back([&, mode, r] { Reader(mode, 17 + mode * 10 + r, stop); });
    }
  }

  // The nemesis: a fixed schedule, each fault held a few seconds, with the
  // cluster back to every node UP between faults.
  const unsigned seed = 20261121;
  std::mt19937 random(seed);
  std::cout << "nemesis seed " << seed << "\n";
  auto hold = [](int seconds) { absl::SleepFor(absl::Seconds(seconds)); };
  const int n = cluster_->num_nodes();
  {
    const int victim = random() % n;
    std::cout << "kill -9 node" << victim << "\n";
    cluster_->KillNode(victim);
    hold(3);
    ASSERT_OK(cluster_->RestartNode(victim));
    ASSERT_TRUE(AllUp(absl::Seconds(20)));
  }
  {
    const int victim = random() % n;
    std::cout << "SIGSTOP node" << victim << "\n";
    cluster_->PauseNode(victim);
    hold(4);  // long enough to be DOWN
    cluster_->ResumeNode(victim);
    ASSERT_TRUE(AllUp(absl::Seconds(20)));
  }
  {
    std::cout << "kill -9 rack r2\n";
    for (int i = 0; i < n; ++i) {
      if (cluster_->rack(i) == "r2") cluster_->KillNode(i);
    }
    hold(4);
    for (int i = 0; i < n; ++i) {
      if (!cluster_->running(i)) ASSERT_OK(cluster_->RestartNode(i));
    }
    ASSERT_TRUE(AllUp(absl::Seconds(20)));
  }
  {
    std::cout << "kill -9 master\n";
    cluster_->KillMaster();
    hold(3);
    ASSERT_OK(cluster_->RestartMaster());
    ASSERT_TRUE(AllUp(absl::Seconds(20)));
  }
  {
    // Two replicas of some partitions at once: their writes fail or are
    // refused, and nothing acknowledged may be lost.
    const int paused = 0;   // rack r1
    const int killed = 2;   // rack r3
    std::cout << "SIGSTOP node" << paused << " and kill -9 node" << killed
              << "\n";
    cluster_->PauseNode(paused);
    cluster_->KillNode(killed);
    hold(3);
    cluster_->ResumeNode(paused);
    ASSERT_OK(cluster_->RestartNode(killed));
    ASSERT_TRUE(AllUp(absl::Seconds(20)));
  }
  {
    const int victim = random() % n;
    std::cout << "SIGSTOP node" << victim << " briefly (not DOWN)\n";
    cluster_->PauseNode(victim);
    hold(1);
    cluster_->ResumeNode(victim);
  }
  hold(2);
  stop = true;
  for (std::thread& t : threads) t.join();

  // Every acknowledged write reads back at R=N.
  ASSERT_TRUE(AllUp(absl::Seconds(20)));
  RequestOptions all;
  all.r = 3;
  int64_t lost = 0;
  for (const auto& entry : history_) {
    const std::string& key = entry.first;  // captured below
    const auto& h = entry.second;
    absl::StatusOr<ReadResult> read;
    ASSERT_TRUE(WaitFor(
        [&] {
          read = clients_[0]->Get(key, all);
          return read.ok() || absl::IsNotFound(read.status());
        },
        absl::Seconds(20)))
        << key << ": " << read.status();
    int64_t seen = 0;
    if (read.ok()) {
      ASSERT_TRUE(absl::SimpleAtoi(read->value, &seen)) << key;
    }
    if (seen < h->acknowledged || seen > h->attempted) {
      ++lost;
      ADD_FAILURE() << key << ": reads " << seen << " at R=N; acknowledged "
                    << h->acknowledged << ", attempted " << h->attempted;
    }
  }
  std::cout << "writes: " << counts_.writes_ok << " acknowledged, "
            << counts_.writes_refused << " refused (not written), "
            << counts_.writes_failed << " failed (maybe written)\n"
            << "quorum reads: " << counts_.reads_ok << " answered, "
            << counts_.reads_failed << " failed; " << counts_.stale_reads
            << " older than acknowledged, " << counts_.phantom_reads
            << " never written\n"
            << "keys: " << history_.size() << ", lost at R=N: " << lost << "\n";
  EXPECT_GT(counts_.writes_ok, 100);
  // The master logged the paused node going DOWN and coming back.
  const std::string logs = cluster_->Logs();
  EXPECT_NE(logs.find(") is DOWN; last heartbeat"), std::string::npos);
  EXPECT_NE(logs.find(") is UP again; last heartbeat"), std::string::npos);
  EXPECT_EQ(counts_.stale_reads, 0);
  EXPECT_EQ(counts_.phantom_reads, 0);
  absl::MutexLock lock(&mu_);
  for (const std::string& problem : problems_) ADD_FAILURE() << problem;
}

}  // namespace
}  // namespace quorumkv
