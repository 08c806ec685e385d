// The hot-key pieces that decide without a cluster: the space-saving
// sketch finds the top keys of skewed streams within its error bounds, and
// the hot/cool decision heats and cools with hysteresis.
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/hot_state.h"
#include "common/top_keys.h"
#include "storage_node/read_coalescer.h"
#include "gtest/gtest.h"

namespace quorumkv {
namespace {

// A zipfian-like stream over `keys` keys (key i drawn with weight
// 1/(i+1)), shuffled.
std::vector<std::string> SkewedStream(int keys, int length, unsigned seed) {
  std::vector<double> weights;
  for (int i = 0; i < keys; ++i) weights.push_back(1.0 / (i + 1));
  std::discrete_distribution<int> pick(weights.begin(), weights.end());
  std::mt19937 rng(seed);
  std::vector<std::string> stream;
  for (int i = 0; i < length; ++i) stream.push_back(absl::StrCat("k", pick(rng)));
  return stream;
}

TEST(TopKeysTest, FindsTheTopKeysOfSkewedStreamsWithinItsBounds) {
  for (unsigned seed : {1u, 2u, 3u}) {
    for (size_t capacity : {16u, 64u, 256u}) {
      const std::vector<std::string> stream = SkewedStream(10000, 50000, seed);
      std::map<std::string, uint64_t> truth;
      TopKeys sketch(capacity);
      for (const std::string& key : stream) {
        ++truth[key];
        sketch.Add(key);
      }
      EXPECT_EQ(sketch.total(), stream.size());
      EXPECT_LE(sketch.size(), capacity);
      const std::vector<TopKeys::Entry> top = sketch.Top(capacity);
      for (const TopKeys::Entry& e : top) {
        // count is an upper bound, count - error a lower bound.
        EXPECT_GE(e.count, truth[e.key]) << e.key;
        EXPECT_LE(e.count - e.error, truth[e.key]) << e.key;
      }
      // Every key seen more than total/capacity times is kept.
      for (const auto& [key, count] : truth) {
        if (count <= stream.size() / capacity) continue;
        bool kept = false;
        for (const TopKeys::Entry& e : top) kept |= e.key == key;
        EXPECT_TRUE(kept) << key << " seen " << count << " times, capacity "
                          << capacity;
      }
      // The hottest key of a zipfian stream comes first.
      EXPECT_EQ(sketch.Top(1)[0].key, "k0");
    }
  }
}

TEST(TopKeysTest, UniformStreamsKeepTheBoundAndClearForgets) {
  TopKeys sketch(8);
  for (int round = 0; round < 100; ++round) {
    for (int k = 0; k < 20; ++k) sketch.Add(absl::StrCat("u", k));
  }
  EXPECT_EQ(sketch.size(), 8u);
  EXPECT_EQ(sketch.total(), 2000u);
  for (const TopKeys::Entry& e : sketch.Top(8)) EXPECT_GE(e.count, 100u);
  sketch.Add("w", 5);
  EXPECT_EQ(sketch.total(), 2005u);
  sketch.Clear();
  EXPECT_EQ(sketch.size(), 0u);
  EXPECT_TRUE(sketch.Top(3).empty());
  sketch.Add("a", 3);
  sketch.Add("b", 3);
  sketch.Add("c", 1);
  const auto top = sketch.Top(3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].key, "a");  // equal counts by key
  EXPECT_EQ(top[1].key, "b");
  EXPECT_EQ(top[2].key, "c");
}

// Feeds `rates` through the decision; the hot flag after each sample.
std::string HotFlags(const std::vector<double>& rates, const HotPolicy& policy) {
  HotState state;
  std::string flags;
  for (double rate : rates) {
    state = NextHotState(state, rate, policy);
    flags += state.hot ? 'H' : '.';
  }
  return flags;
}

TEST(HotStateTest, HeatsAfterASustainedRateAndCoolsWithHysteresis) {
  HotPolicy policy;
  policy.hot_reads_per_sec = 100;
  policy.cool_reads_per_sec = 50;
  policy.samples_to_heat = 3;
  policy.samples_to_cool = 4;
  // Sustained: hot on the third sample.
  EXPECT_EQ(HotFlags({200, 200, 200, 200}, policy), "..HH");
  // Spikes shorter than the dwell never heat.
  EXPECT_EQ(HotFlags({200, 200, 10, 200, 200, 70, 200}, policy), ".......");
  // Between the thresholds a hot partition stays hot...
  EXPECT_EQ(HotFlags({200, 200, 200, 70, 70, 70, 70, 70, 70}, policy), "..HHHHHHH");
  // ...and cools only after samples_to_cool samples below the cool one.
  EXPECT_EQ(HotFlags({200, 200, 200, 10, 10, 10, 10, 10}, policy), "..HHHH..");
  // A rate that flaps around the hot threshold heats once and stays.
  EXPECT_EQ(HotFlags({200, 200, 200, 90, 110, 90, 110, 90}, policy), "..HHHHHH");
  // A dip below the cool threshold interrupted by one busy sample restarts
  // the count.
  EXPECT_EQ(HotFlags({200, 200, 200, 10, 10, 10, 200, 10, 10, 10, 10}, policy),
            "..HHHHHHHH.");
}

TEST(HotStateTest, NeverHotBelowTheThreshold) {
  HotPolicy policy;
  std::vector<double> rates(100, policy.hot_reads_per_sec - 1);
  EXPECT_EQ(HotFlags(rates, policy), std::string(100, '.'));
}

// Rounds the test completes by hand; each reads the "replicas" (one
// value) at the moment it is started, as a round sent then would.
class ManualRounds {
 public:
  ReadCoalescer::StartRound Starter() {
    return [this](absl::Time, ReadCoalescer::ReadDone done) {
      VersionedValue seen;
      seen.set_value(stored);
      pending.push_back({seen, std::move(done)});
    };
  }
  // Completes the oldest round still open.
  void CompleteOne() {
    auto [value, done] = std::move(pending.front());
    pending.erase(pending.begin());
    done(value);
  }
  std::string stored = "v1";
  std::vector<std::pair<VersionedValue, ReadCoalescer::ReadDone>> pending;
};

TEST(ReadCoalescerTest, ConcurrentReadsShareOneRound) {
  ReadCoalescer coalescer;
  ManualRounds rounds;
  std::vector<std::string> answers;
  auto read = [&] {
    coalescer.Read("0/2/k", absl::InfiniteFuture(),
                   [&](absl::StatusOr<VersionedValue> v) {
                     answers.push_back(v.ok() ? v->value() : "error");
                   },
                   rounds.Starter());
  };
  read();  // starts round 1
  for (int i = 0; i < 9; ++i) read();  // wait for round 2, together
  EXPECT_EQ(rounds.pending.size(), 1u);
  rounds.CompleteOne();
  EXPECT_EQ(answers.size(), 1u);
  ASSERT_EQ(rounds.pending.size(), 1u);  // round 2, for the nine
  rounds.CompleteOne();
  EXPECT_EQ(answers.size(), 10u);
  EXPECT_EQ(coalescer.rounds(), 2u);
  EXPECT_EQ(coalescer.shared_reads(), 9u);
  // Idle again: the next read starts a round of its own at once.
  read();
  EXPECT_EQ(rounds.pending.size(), 1u);
  rounds.CompleteOne();
  EXPECT_EQ(coalescer.rounds(), 3u);
}

TEST(ReadCoalescerTest, AReadNeverSharesARoundSentBeforeItArrived) {
  ReadCoalescer coalescer;
  ManualRounds rounds;
  std::string a, b;
  // Read A: its round reads v1.
  coalescer.Read("0/2/k", absl::InfiniteFuture(),
                 [&](absl::StatusOr<VersionedValue> v) { a = v->value(); },
                 rounds.Starter());
  // A write of v2 is acknowledged, then read B begins.
  rounds.stored = "v2";
  coalescer.Read("0/2/k", absl::InfiniteFuture(),
                 [&](absl::StatusOr<VersionedValue> v) { b = v->value(); },
                 rounds.Starter());
  rounds.CompleteOne();
  EXPECT_EQ(a, "v1");
  EXPECT_EQ(b, "");  // not answered by A's round
  rounds.CompleteOne();
  EXPECT_EQ(b, "v2");
}

TEST(ReadCoalescerTest, KeysAndQuorumsDoNotShareAndErrorsReachEveryReader) {
  ReadCoalescer coalescer;
  int rounds_started = 0;
  std::vector<ReadCoalescer::ReadDone> open;
  auto start = [&](absl::Time, ReadCoalescer::ReadDone done) {
    ++rounds_started;
    open.push_back(std::move(done));
  };
  int errors = 0;
  auto count_errors = [&](absl::StatusOr<VersionedValue> v) { errors += !v.ok(); };
  coalescer.Read("0/2/k", absl::InfiniteFuture(), count_errors, start);
  coalescer.Read("0/2/other", absl::InfiniteFuture(), count_errors, start);
  coalescer.Read("0/3/k", absl::InfiniteFuture(), count_errors, start);
  EXPECT_EQ(rounds_started, 3);
  coalescer.Read("0/2/k", absl::InfiniteFuture(), count_errors, start);
  coalescer.Read("0/2/k", absl::InfiniteFuture(), count_errors, start);
  open[0](absl::UnavailableError("quorum not reached"));
  EXPECT_EQ(rounds_started, 4);  // the two waiting reads' round
  open[3](absl::UnavailableError("quorum not reached"));
  EXPECT_EQ(errors, 3);
}

}  // namespace
}  // namespace quorumkv
