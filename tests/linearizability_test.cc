// The register linearizability checker (tests/linearizability.h) on small
// histories whose verdict is known, and on generated counter histories
// that are linearizable by construction, then corrupted.
#include "tests/linearizability.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace quorumkv {
namespace {

using Kind = RegisterOp::Kind;

constexpr int64_t kNoResponse = std::numeric_limits<int64_t>::max();

RegisterOp MakeOp(Kind kind, int client, int64_t invoked, int64_t returned) {
  RegisterOp op;
  op.kind = kind;
  op.client = client;
  op.invoked = invoked;
  op.returned = returned;
  return op;
}

RegisterOp Read(int client, int64_t invoked, int64_t returned,
                std::optional<std::string> seen) {
  RegisterOp op = MakeOp(Kind::kRead, client, invoked, returned);
  op.value = std::move(seen);
  return op;
}

RegisterOp Write(int client, int64_t invoked, int64_t returned,
                 std::string value) {
  RegisterOp op = MakeOp(Kind::kWrite, client, invoked, returned);
  op.value = std::move(value);
  return op;
}

RegisterOp Increment(int client, int64_t invoked, int64_t returned,
                     int64_t result) {
  RegisterOp op = MakeOp(Kind::kIncrement, client, invoked, returned);
  op.delta = 1;
  op.result = result;
  return op;
}

RegisterOp CasIfAbsent(int client, int64_t invoked, int64_t returned,
                       std::string value, bool applied) {
  RegisterOp op = MakeOp(Kind::kCasIfAbsent, client, invoked, returned);
  op.value = std::move(value);
  op.applied = applied;
  return op;
}

RegisterOp CasIfValue(int client, int64_t invoked, int64_t returned,
                      std::string expected, std::string value, bool applied) {
  RegisterOp op = MakeOp(Kind::kCasIfValue, client, invoked, returned);
  op.expected = std::move(expected);
  op.value = std::move(value);
  op.applied = applied;
  return op;
}

// A compare-and-set that was not applied, and the value it reported.
RegisterOp Saw(RegisterOp op, std::optional<std::string> observed) {
  op.check_observed = true;
  op.observed = std::move(observed);
  return op;
}

// The same operation, timed out: its outcome, and response, are unknown.
RegisterOp Unknown(RegisterOp op) {
  op.unknown = true;
  op.returned = kNoResponse;
  return op;
}

::testing::AssertionResult Linearizable(
    const std::vector<RegisterOp>& history,
    std::optional<std::string> initial = std::nullopt) {
  const LinearizabilityResult result =
      CheckLinearizable(history, std::move(initial));
  if (result.linearizable) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << result.explanation;
}

// Rejected outright: running out of budget does not count.
::testing::AssertionResult Rejected(const std::vector<RegisterOp>& history) {
  const LinearizabilityResult result = CheckLinearizable(history);
  if (result.linearizable) {
    ::testing::AssertionResult failure = ::testing::AssertionFailure();
    failure << "accepted, in the order";
    for (const size_t i : result.order) failure << " " << i;
    return failure;
  }
  if (result.gave_up) {
    return ::testing::AssertionFailure() << result.explanation;
  }
  return ::testing::AssertionSuccess();
}

TEST(LinearizabilityTest, SequentialWritesAndReadsAreLinearizable) {
  const std::vector<RegisterOp> history = {
      Read(0, 0, 1, std::nullopt), Write(0, 2, 3, "a"), Read(0, 4, 5, "a"),
      Write(0, 6, 7, "b"),         Read(0, 8, 9, "b"),
  };
  const LinearizabilityResult result = CheckLinearizable(history);
  ASSERT_TRUE(result.linearizable) << result.explanation;
  EXPECT_FALSE(result.gave_up);
  EXPECT_TRUE(result.explanation.empty());
  EXPECT_EQ(result.order, (std::vector<size_t>{0, 1, 2, 3, 4}));

  EXPECT_TRUE(Linearizable({Read(0, 0, 1, "x")}, "x"));
  EXPECT_TRUE(Rejected({Read(0, 0, 1, "x")}));
  EXPECT_TRUE(Linearizable({}));
}

TEST(LinearizabilityTest, ReadOfAValueNeverWrittenIsRejected) {
  const LinearizabilityResult result =
      CheckLinearizable({Write(0, 0, 1, "a"), Read(1, 2, 3, "c")});
  EXPECT_FALSE(result.linearizable);
  EXPECT_FALSE(result.gave_up);
  // The explanation names the read that fits nowhere.
  EXPECT_NE(result.explanation.find("op 1 (client 1, [2, 3]): read -> \"c\""),
            std::string::npos)
      << result.explanation;
}

TEST(LinearizabilityTest, ReadOverlappingTwoWritesMaySeeEither) {
  for (const char* seen : {"a", "b"}) {
    SCOPED_TRACE(seen);
    // The read overlaps both writes...
    EXPECT_TRUE(Linearizable(
        {Write(0, 0, 10, "a"), Write(1, 5, 15, "b"), Read(2, 6, 14, seen)}));
    // ...or follows both, which overlap each other: either may be last.
    EXPECT_TRUE(Linearizable(
        {Write(0, 0, 10, "a"), Write(1, 5, 15, "b"), Read(2, 20, 30, seen)}));
  }
  // Invoked before either returned, it may even precede both.
  EXPECT_TRUE(Linearizable({Write(0, 0, 10, "a"), Write(1, 5, 15, "b"),
                            Read(2, 6, 14, std::nullopt)}));
  // Not after both returned.
  EXPECT_TRUE(Rejected({Write(0, 0, 10, "a"), Write(1, 5, 15, "b"),
                        Read(2, 20, 30, std::nullopt)}));
}

TEST(LinearizabilityTest, StaleReadIsRejected) {
  // Both writes returned before the read began: it must see the second.
  EXPECT_TRUE(Rejected(
      {Write(0, 0, 10, "a"), Write(1, 20, 30, "b"), Read(2, 40, 50, "a")}));

  // Overlapping writes, ordered b then a by the first read: a later read
  // may see a again, never b.
  const std::vector<RegisterOp> prefix = {
      Write(0, 0, 10, "a"), Write(1, 5, 15, "b"), Read(2, 20, 30, "a")};
  std::vector<RegisterOp> stale = prefix;
  stale.push_back(Read(3, 35, 45, "b"));
  EXPECT_TRUE(Rejected(stale));
  std::vector<RegisterOp> fresh = prefix;
  fresh.push_back(Read(3, 35, 45, "a"));
  EXPECT_TRUE(Linearizable(fresh));
}

TEST(LinearizabilityTest, ConcurrentIncrementsInAValidOrder) {
  // Four clients, all overlapping: the results alone fix the order.
  const LinearizabilityResult result = CheckLinearizable({
      Increment(0, 0, 100, 3),
      Increment(1, 10, 110, 1),
      Increment(2, 20, 120, 4),
      Increment(3, 30, 130, 2),
  });
  ASSERT_TRUE(result.linearizable) << result.explanation;
  EXPECT_EQ(result.order, (std::vector<size_t>{1, 3, 0, 2}));
}

TEST(LinearizabilityTest, TwoIncrementsFromZeroCannotBothReturnOne) {
  EXPECT_TRUE(Rejected({
      Increment(0, 0, 100, 1),
      Increment(1, 10, 110, 1),
      Increment(2, 20, 120, 2),
      Increment(3, 30, 130, 3),
  }));
  EXPECT_TRUE(Rejected({Increment(0, 0, 10, 1), Increment(1, 5, 15, 1)}));
  // Real time: the second began after the first returned 2.
  EXPECT_TRUE(Rejected({Increment(0, 0, 10, 2), Increment(1, 20, 30, 1)}));
}

TEST(LinearizabilityTest, UnknownOutcomeMayOrMayNotHaveTakenEffect) {
  // It did: the read shows it.
  const LinearizabilityResult happened = CheckLinearizable({
      Increment(0, 0, 10, 1),
      Unknown(Increment(1, 20, 0, 0)),
      Read(2, 30, 40, "2"),
  });
  ASSERT_TRUE(happened.linearizable) << happened.explanation;
  EXPECT_EQ(happened.order, (std::vector<size_t>{0, 1, 2}));

  // It did not, as far as anyone saw.
  const LinearizabilityResult did_not = CheckLinearizable({
      Increment(0, 0, 10, 1),
      Unknown(Increment(1, 20, 0, 0)),
      Read(2, 30, 40, "1"),
      Increment(3, 50, 60, 2),
  });
  ASSERT_TRUE(did_not.linearizable) << did_not.explanation;
  EXPECT_EQ(did_not.order, (std::vector<size_t>{0, 2, 3}));

  // A compare-and-set too.
  EXPECT_TRUE(Linearizable({Unknown(CasIfAbsent(0, 0, 0, "x", false)),
                            Read(1, 10, 20, "x")}));
  EXPECT_TRUE(Linearizable({Unknown(CasIfAbsent(0, 0, 0, "x", false)),
                            Read(1, 10, 20, std::nullopt)}));
}

TEST(LinearizabilityTest, UnknownOutcomeTakesEffectOnlyAfterInvocation) {
  // The read returned before the increment was invoked.
  EXPECT_TRUE(
      Rejected({Read(0, 0, 10, "1"), Unknown(Increment(1, 20, 0, 0))}));
  // Once seen, its effect stays (until overwritten).
  EXPECT_TRUE(Rejected({Write(0, 0, 10, "a"), Unknown(Write(1, 20, 0, "b")),
                        Read(2, 30, 40, "b"), Read(3, 50, 60, "a")}));
}

TEST(LinearizabilityTest, CompareAndSetIfAbsent) {
  EXPECT_TRUE(Rejected({CasIfAbsent(0, 0, 10, "x", true),
                        CasIfAbsent(1, 5, 15, "y", true)}));

  const LinearizabilityResult one_wins = CheckLinearizable(
      {CasIfAbsent(0, 0, 10, "x", true),
       Saw(CasIfAbsent(1, 5, 15, "y", false), "x")});
  ASSERT_TRUE(one_wins.linearizable) << one_wins.explanation;
  EXPECT_EQ(one_wins.order, (std::vector<size_t>{0, 1}));

  // The loser must report the winner's value, and some value.
  EXPECT_TRUE(Rejected({CasIfAbsent(0, 0, 10, "x", true),
                        Saw(CasIfAbsent(1, 5, 15, "y", false), "y")}));
  EXPECT_TRUE(Rejected({CasIfAbsent(0, 0, 10, "x", true),
                        Saw(CasIfAbsent(1, 5, 15, "y", false), std::nullopt)}));
  // Unless what it reported was not recorded.
  EXPECT_TRUE(Linearizable({CasIfAbsent(0, 0, 10, "x", true),
                            CasIfAbsent(1, 5, 15, "y", false)}));
  // Nothing was there for it to fail on.
  EXPECT_TRUE(Rejected({CasIfAbsent(0, 0, 10, "x", false)}));
}

TEST(LinearizabilityTest, CompareAndSetIfValue) {
  EXPECT_TRUE(Linearizable({
      Write(0, 0, 10, "a"),
      CasIfValue(1, 20, 30, "a", "b", true),
      Saw(CasIfValue(2, 40, 50, "a", "c", false), "b"),
      Read(3, 60, 70, "b"),
  }));
  EXPECT_TRUE(
      Rejected({Write(0, 0, 10, "b"), CasIfValue(1, 20, 30, "a", "c", true)}));
  EXPECT_TRUE(
      Rejected({Write(0, 0, 10, "a"), CasIfValue(1, 20, 30, "a", "c", false)}));
}

TEST(LinearizabilityTest, IncrementOfANonNumber) {
  EXPECT_TRUE(Rejected({Write(0, 0, 10, "abc"), Increment(1, 20, 30, 1)}));
  // Of unknown outcome, it simply had no effect.
  EXPECT_TRUE(Linearizable({Write(0, 0, 10, "abc"),
                            Unknown(Increment(1, 20, 0, 0)),
                            Read(2, 30, 40, "abc")}));
}

TEST(LinearizabilityTest, MalformedIntervalIsReported) {
  const LinearizabilityResult result =
      CheckLinearizable({Read(0, 10, 5, std::nullopt)});
  EXPECT_FALSE(result.linearizable);
  EXPECT_NE(result.explanation.find("malformed"), std::string::npos)
      << result.explanation;
}

TEST(LinearizabilityTest, GivesUpWhenTheBudgetIsExhausted) {
  const LinearizabilityResult result = CheckLinearizable(
      {Write(0, 0, 1, "a"), Write(0, 2, 3, "b"), Write(0, 4, 5, "c")},
      std::nullopt, /*max_states=*/1);
  EXPECT_FALSE(result.linearizable);
  EXPECT_TRUE(result.gave_up);
  EXPECT_EQ(result.explanation.rfind("search budget exhausted", 0), 0u)
      << result.explanation;
}

// A counter history that is linearizable by construction, with its truth.
struct GeneratedHistory {
  std::vector<RegisterOp> ops;
  // The operations that took effect, in the order they did.
  std::vector<size_t> effect_order;
};

// Operation i takes effect at instant (i + 1) * kSpacing, on a client
// drawn at random; its interval is then widened at random around that
// instant, within the client's previous and next operations so that each
// client stays sequential. The instants are thus a linearization. Draws
// use the engine's raw output, which the standard fixes, so the history is
// the same everywhere.
GeneratedHistory GenerateCounterHistory(int clients, int ops_per_client,
                                        int unknown_per_mille,
                                        int reads_per_mille, uint32_t seed) {
  constexpr int64_t kSpacing = 100;
  constexpr int64_t kSlack = 1000;  // About ten instants either way.
  std::mt19937 engine(seed);
  auto uniform = [&engine](int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(engine() %
                                     static_cast<uint64_t>(hi - lo + 1));
  };
  auto chance = [&engine](int per_mille) {
    return static_cast<int>(engine() % 1000) < per_mille;
  };

  std::vector<int> owner;
  for (int c = 0; c < clients; ++c) {
    for (int k = 0; k < ops_per_client; ++k) owner.push_back(c);
  }
  for (size_t i = owner.size(); i > 1; --i) {
    std::swap(owner[i - 1], owner[engine() % i]);
  }
  const size_t n = owner.size();
  auto instant = [](size_t i) {
    return static_cast<int64_t>(i + 1) * kSpacing;
  };
  std::vector<int64_t> next_instant(n, -1);  // Of the same client.
  {
    std::vector<int64_t> upcoming(clients, -1);
    for (size_t i = n; i-- > 0;) {
      next_instant[i] = upcoming[owner[i]];
      upcoming[owner[i]] = instant(i);
    }
  }

  GeneratedHistory history;
  std::vector<int64_t> free_at(clients, 0);
  int64_t counter = 0;
  bool present = false;
  for (size_t i = 0; i < n; ++i) {
    const int client = owner[i];
    const int64_t at = instant(i);
    int64_t latest_return = at + kSlack;
    if (next_instant[i] >= 0) {
      latest_return = std::min(latest_return, next_instant[i] - 1);
    }
    RegisterOp op;
    op.client = client;
    op.invoked = uniform(std::max(free_at[client] + 1, at - kSlack), at);
    const int64_t returned = uniform(at, latest_return);
    // A client whose operation times out gives up on it then.
    free_at[client] = returned;
    if (chance(reads_per_mille)) {
      op.kind = Kind::kRead;
      if (present) op.value = std::to_string(counter);
      op.returned = returned;
      history.effect_order.push_back(i);
    } else {
      op.kind = Kind::kIncrement;
      op.delta = 1;
      op.unknown = chance(unknown_per_mille);
      if (!op.unknown || chance(500)) {
        ++counter;
        present = true;
        history.effect_order.push_back(i);
      }
      if (op.unknown) {
        op.returned = kNoResponse;
      } else {
        op.returned = returned;
        op.result = counter;
      }
    }
    history.ops.push_back(std::move(op));
  }
  return history;
}

// Checks a witness independently of the checker, by replaying it on a
// counter: every operation of known outcome appears exactly once with the
// answer it gave, and none follows an operation invoked after it returned.
::testing::AssertionResult CounterWitnessHolds(
    const std::vector<RegisterOp>& history, const std::vector<size_t>& order) {
  std::vector<int> times(history.size(), 0);
  std::optional<int64_t> counter;
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    if (i >= history.size()) {
      return ::testing::AssertionFailure() << "no op " << i;
    }
    if (++times[i] > 1) {
      return ::testing::AssertionFailure() << "op " << i << " twice";
    }
    const RegisterOp& op = history[i];
    if (op.kind == Kind::kRead) {
      std::optional<std::string> now;
      if (counter.has_value()) now = std::to_string(*counter);
      if (op.value != now) {
        return ::testing::AssertionFailure()
               << "op " << i << " read " << op.value.value_or("(absent)")
               << " where the witness has " << now.value_or("(absent)");
      }
    } else {
      counter = counter.value_or(0) + op.delta;
      if (!op.unknown && op.result != *counter) {
        return ::testing::AssertionFailure()
               << "op " << i << " answered " << op.result
               << " where the witness has " << *counter;
      }
    }
    for (size_t later = k + 1; later < order.size(); ++later) {
      const RegisterOp& next = history[order[later]];
      if (!next.unknown && next.returned < op.invoked) {
        return ::testing::AssertionFailure()
               << "op " << order[later] << " returned before op " << i
               << " was invoked, yet follows it";
      }
    }
  }
  for (size_t i = 0; i < history.size(); ++i) {
    if (!history[i].unknown && times[i] == 0) {
      return ::testing::AssertionFailure() << "op " << i << " missing";
    }
  }
  return ::testing::AssertionSuccess();
}

// A bound the checker stays far below on these histories; reaching it
// would fail the tests (gave_up) rather than let them run for long.
constexpr size_t kMaxStates = 2'000'000;

TEST(LinearizabilityTest, GeneratedCounterHistory) {
  GeneratedHistory generated =
      GenerateCounterHistory(/*clients=*/8, /*ops_per_client=*/100,
                             /*unknown_per_mille=*/50, /*reads_per_mille=*/0,
                             /*seed=*/20240611);
  std::vector<RegisterOp>& ops = generated.ops;
  ASSERT_EQ(ops.size(), 800u);
  size_t unknown = 0;
  for (const RegisterOp& op : ops) unknown += op.unknown ? 1 : 0;
  EXPECT_GT(unknown, 0u);

  const LinearizabilityResult result =
      CheckLinearizable(ops, std::nullopt, kMaxStates);
  ASSERT_TRUE(result.linearizable) << result.explanation;
  EXPECT_TRUE(CounterWitnessHolds(ops, result.order));

  // Two consecutive increments of known outcome, from the middle on: adding
  // one to the first's result makes both claim the same value, which no
  // order of increments by one can produce.
  const std::vector<size_t>& truth = generated.effect_order;
  size_t corrupted = truth.size();
  size_t partner = truth.size();
  for (size_t k = truth.size() / 2; k + 1 < truth.size(); ++k) {
    if (!ops[truth[k]].unknown && !ops[truth[k + 1]].unknown) {
      corrupted = truth[k];
      partner = truth[k + 1];
      break;
    }
  }
  ASSERT_LT(corrupted, ops.size());
  ops[corrupted].result += 1;
  ASSERT_EQ(ops[corrupted].result, ops[partner].result);

  const LinearizabilityResult rejected =
      CheckLinearizable(ops, std::nullopt, kMaxStates);
  EXPECT_FALSE(rejected.linearizable);
  EXPECT_FALSE(rejected.gave_up) << rejected.explanation;
  EXPECT_FALSE(rejected.explanation.empty());
}

TEST(LinearizabilityTest, GeneratedCounterHistoryWithReads) {
  GeneratedHistory generated =
      GenerateCounterHistory(/*clients=*/8, /*ops_per_client=*/100,
                             /*unknown_per_mille=*/50, /*reads_per_mille=*/100,
                             /*seed=*/7);
  std::vector<RegisterOp>& ops = generated.ops;
  const LinearizabilityResult result =
      CheckLinearizable(ops, std::nullopt, kMaxStates);
  ASSERT_TRUE(result.linearizable) << result.explanation;
  EXPECT_TRUE(CounterWitnessHolds(ops, result.order));

  // A read, from the middle on, of a value the counter never reaches.
  size_t read = ops.size();
  for (size_t k = generated.effect_order.size() / 2;
       k < generated.effect_order.size(); ++k) {
    if (ops[generated.effect_order[k]].kind == Kind::kRead) {
      read = generated.effect_order[k];
      break;
    }
  }
  ASSERT_LT(read, ops.size());
  ops[read].value = "1000000";
  const LinearizabilityResult rejected =
      CheckLinearizable(ops, std::nullopt, kMaxStates);
  EXPECT_FALSE(rejected.linearizable);
  EXPECT_FALSE(rejected.gave_up) << rejected.explanation;
}

}  // namespace
}  // namespace quorumkv
