#include "tests/linearizability.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace quorumkv {
namespace {

using Kind = RegisterOp::Kind;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

constexpr int kNone = -1;
constexpr int kIllegal = -1;  // Step(): the operation cannot take effect.
constexpr int kAbsent = 0;    // Id of the absent value.

// Values are interned so that the search compares and remembers small ids
// and never copies or hashes strings.
struct Value {
  bool present = false;
  std::string bytes;
  bool is_int = false;
  int64_t number = 0;
  // Order of the value in a counter history, where it never decreases:
  // absent comes before every number, and a value that is no number cannot
  // arise there (kMax keeps it from pruning anything).
  int64_t rank = kMin;
};

class Values {
 public:
  Values() : values_(1) {}  // kAbsent.

  int Intern(const std::optional<std::string>& value) {
    return value.has_value() ? InternBytes(*value) : kAbsent;
  }

  int InternBytes(const std::string& bytes) {
    const auto [it, inserted] =
        by_bytes_.try_emplace(bytes, static_cast<int>(values_.size()));
    if (inserted) {
      Value value;
      value.present = true;
      value.bytes = bytes;
      const char* const end = bytes.data() + bytes.size();
      const auto [ptr, error] =
          std::from_chars(bytes.data(), end, value.number);
      value.is_int = error == std::errc() && ptr == end;
      value.rank = value.is_int ? value.number : kMax;
      values_.push_back(std::move(value));
    }
    return it->second;
  }

  // Increments produce numbers; caching their ids skips formatting them
  // again each time the search reaches the same count.
  int InternNumber(int64_t number) {
    const auto it = by_number_.find(number);
    if (it != by_number_.end()) return it->second;
    const int id = InternBytes(absl::StrCat(number));
    by_number_.emplace(number, id);
    return id;
  }

  // The reference is invalidated by the next Intern*().
  const Value& Get(int id) const { return values_[id]; }

 private:
  std::vector<Value> values_;
  absl::flat_hash_map<std::string, int> by_bytes_;
  absl::flat_hash_map<int64_t, int> by_number_;
};

// A RegisterOp with its values interned.
struct Op {
  size_t source = 0;  // Index in the history.
  int client = 0;
  Kind kind = Kind::kRead;
  bool unknown = false;
  int64_t invoked = 0;
  int64_t returned = kMax;  // kMax when unknown: it bounds nothing.
  int value = kNone;  // Read: seen. Write, cas: new. Known increment: result.
  int expected = kNone;
  bool applied = false;
  int observed = kNone;  // kNone: not checked.
  int64_t delta = 0;
  int64_t result = 0;
  // Unknown operations with the same effect are interchangeable: the
  // search applies those of one group in invocation order only.
  int group = kNone;
  // Counter histories: the highest rank of value at which this known
  // operation can still take effect (kMax: none is known).
  int64_t threshold = kMax;
};

// The register value after `op` takes effect on `state`, or kIllegal. An
// unknown operation that would have no effect returns `state`, which the
// search treats as not taking effect at all.
int Step(const Op& op, int state, Values& values) {
  switch (op.kind) {
    case Kind::kRead:
      return op.value == state ? state : kIllegal;
    case Kind::kWrite:
      return op.value;
    case Kind::kCasIfAbsent:
    case Kind::kCasIfValue: {
      const bool holds = op.kind == Kind::kCasIfAbsent
                             ? state == kAbsent
                             : state == op.expected;
      if (op.unknown) return holds ? op.value : state;
      if (op.applied) return holds ? op.value : kIllegal;
      if (holds) return kIllegal;
      return op.observed == kNone || op.observed == state ? state : kIllegal;
    }
    case Kind::kIncrement: {
      int64_t base = 0;
      {
        const Value& current = values.Get(state);
        if (current.present) {
          if (!current.is_int) return op.unknown ? state : kIllegal;
          base = current.number;
        }
      }
      int64_t sum = 0;
      if (__builtin_add_overflow(base, op.delta, &sum)) {
        return op.unknown ? state : kIllegal;
      }
      if (!op.unknown) return sum == op.result ? op.value : kIllegal;
      return values.InternNumber(sum);
    }
  }
  return kIllegal;
}

std::string Quote(const Values& values, int id) {
  const Value& value = values.Get(id);
  if (!value.present) return "absent";
  // Large values would drown the explanation.
  constexpr size_t kShown = 40;
  if (value.bytes.size() <= kShown) {
    return absl::StrCat("\"", absl::CHexEscape(value.bytes), "\"");
  }
  return absl::StrCat("\"", absl::CHexEscape(value.bytes.substr(0, kShown)),
                      "\"... (", value.bytes.size(), " bytes)");
}

std::string Describe(const Values& values, const Op& op) {
  std::string what;
  switch (op.kind) {
    case Kind::kRead:
      what = absl::StrCat("read -> ", Quote(values, op.value));
      break;
    case Kind::kWrite:
      what = absl::StrCat("write ", Quote(values, op.value));
      break;
    case Kind::kCasIfAbsent:
    case Kind::kCasIfValue:
      what = absl::StrCat("cas if ",
                          op.kind == Kind::kCasIfAbsent
                              ? std::string("absent")
                              : Quote(values, op.expected),
                          " then ", Quote(values, op.value));
      if (!op.unknown) {
        absl::StrAppend(&what, op.applied ? " -> applied" : " -> not applied");
        if (!op.applied && op.observed != kNone) {
          absl::StrAppend(&what, ", saw ", Quote(values, op.observed));
        }
      }
      break;
    case Kind::kIncrement:
      what = absl::StrCat("increment by ", op.delta);
      if (!op.unknown) absl::StrAppend(&what, " -> ", op.result);
      break;
  }
  if (op.unknown) absl::StrAppend(&what, " -> outcome unknown");
  std::string returned = "?";
  if (!op.unknown) {
    returned = op.returned == kMax ? "never" : absl::StrCat(op.returned);
  }
  return absl::StrCat("op ", op.source, " (client ", op.client, ", [",
                      op.invoked, ", ", returned, "]): ", what);
}

// A state: which operations are linearized, by fingerprint (Zobrist
// hashing: the XOR of random keys of its members, updated in O(1) per step
// and undone the same way), and the exact register value.
struct StateKey {
  uint64_t set_lo = 0;
  uint64_t set_hi = 0;
  int value = kAbsent;

  friend bool operator==(const StateKey& a, const StateKey& b) {
    return a.set_lo == b.set_lo && a.set_hi == b.set_hi &&
           a.value == b.value;
  }
  template <typename H>
  friend H AbslHashValue(H h, const StateKey& key) {
    return H::combine(std::move(h), key.set_lo, key.set_hi, key.value);
  }
};

// One level of the depth-first search. An explicit stack of these, rather
// than recursion, since a history of thousands of operations is as deep.
struct Frame {
  int op = kNone;  // Linearized to reach this level; kNone at the root.
  int prev_value = kAbsent;  // The value before it, restored on backtrack.
  // Positions in the known operations sorted by invocation, by response
  // and by threshold before which all are linearized: they only grow with
  // depth, so each level starts from its parent's.
  size_t inv_lo = 0;
  size_t ret_lo = 0;
  size_t need_lo = 0;
  // The earliest response among known operations not linearized: no
  // operation invoked after it may come next.
  int64_t min_ret = kMax;
  int64_t min_need = kMax;  // The lowest threshold among them.
  // Next candidate to try: an index into the known operations by
  // invocation, then (past their count) a group of unknown ones.
  size_t cursor = 0;
};

class Search {
 public:
  Search(const std::vector<RegisterOp>& history,
         const std::optional<std::string>& initial, size_t max_states);

  LinearizabilityResult Run();

 private:
  size_t SkipDone(const std::vector<int>& order, size_t from) const {
    while (from < order.size() && done_[order[from]]) ++from;
    return from;
  }
  Frame MakeFrame(int op, int prev_value, const Frame* parent) const;
  int NextCandidate(Frame& frame) const;
  std::string Explain(bool gave_up);

  const size_t max_states_;
  std::string malformed_;
  Values values_;
  int initial_ = kAbsent;
  std::vector<Op> ops_;  // Sorted by invocation.
  std::vector<int> known_by_inv_;
  std::vector<int> known_by_ret_;
  std::vector<int> known_by_need_;  // Counter histories only.
  std::vector<std::vector<int>> groups_;  // Each by invocation.
  bool counter_ = false;
  std::vector<uint64_t> key_lo_;
  std::vector<uint64_t> key_hi_;

  std::vector<char> done_;
  std::vector<size_t> group_next_;  // Applied members of each group.
  size_t best_ = 0;  // Most known operations ever linearized at once...
  std::vector<int> best_path_;  // ...and the path that did it.
};

Search::Search(const std::vector<RegisterOp>& history,
               const std::optional<std::string>& initial, size_t max_states)
    : max_states_(max_states) {
  initial_ = values_.Intern(initial);
  ops_.reserve(history.size());
  for (size_t i = 0; i < history.size(); ++i) {
    const RegisterOp& in = history[i];
    if (in.unknown && in.kind == Kind::kRead) continue;
    if (!in.unknown && in.returned < in.invoked) {
      malformed_ = absl::StrCat("malformed history: op ", i, " (client ",
                                in.client, ") returned at ", in.returned,
                                ", before it was invoked at ", in.invoked);
      return;
    }
    Op op;
    op.source = i;
    op.client = in.client;
    op.kind = in.kind;
    op.unknown = in.unknown;
    op.invoked = in.invoked;
    op.returned = in.unknown ? kMax : in.returned;
    op.applied = in.applied;
    op.delta = in.delta;
    op.result = in.result;
    switch (in.kind) {
      case Kind::kRead:
      case Kind::kWrite:
        op.value = values_.Intern(in.value);
        break;
      case Kind::kCasIfValue:
        op.expected = values_.InternBytes(in.expected);
        [[fallthrough]];
      case Kind::kCasIfAbsent:
        op.value = values_.Intern(in.value);
        if (in.check_observed) op.observed = values_.Intern(in.observed);
        break;
      case Kind::kIncrement:
        if (!in.unknown) op.value = values_.InternNumber(in.result);
        break;
    }
    ops_.push_back(op);
  }

  std::sort(ops_.begin(), ops_.end(), [](const Op& a, const Op& b) {
    return std::tie(a.invoked, a.source) < std::tie(b.invoked, b.source);
  });

  absl::flat_hash_map<std::tuple<int, int, int, int64_t>, int> group_of;
  for (int i = 0; i < static_cast<int>(ops_.size()); ++i) {
    Op& op = ops_[i];
    if (!op.unknown) {
      known_by_inv_.push_back(i);
      continue;
    }
    const auto [it, inserted] = group_of.try_emplace(
        std::make_tuple(static_cast<int>(op.kind), op.value, op.expected,
                        op.delta),
        static_cast<int>(groups_.size()));
    if (inserted) groups_.emplace_back();
    op.group = it->second;
    groups_[op.group].push_back(i);
  }
  known_by_ret_ = known_by_inv_;
  std::stable_sort(known_by_ret_.begin(), known_by_ret_.end(),
                   [this](int a, int b) {
                     return ops_[a].returned < ops_[b].returned;
                   });

  {
    const Value& start = values_.Get(initial_);
    counter_ = !start.present || start.is_int;
  }
  for (const Op& op : ops_) {
    if (op.kind == Kind::kRead) continue;
    if (op.kind != Kind::kIncrement || op.delta < 0) {
      counter_ = false;
      break;
    }
  }
  if (counter_) {
    for (const int i : known_by_inv_) {
      Op& op = ops_[i];
      if (op.kind == Kind::kRead) {
        const Value& seen = values_.Get(op.value);
        if (!seen.present) {
          op.threshold = kMin;
        } else if (seen.is_int) {
          op.threshold = seen.number;
        } else {
          continue;  // Never fits; the search finds that out by itself.
        }
      } else if (__builtin_sub_overflow(op.result, op.delta, &op.threshold)) {
        op.threshold = kMax;
        continue;
      }
      known_by_need_.push_back(i);
    }
    std::stable_sort(known_by_need_.begin(), known_by_need_.end(),
                     [this](int a, int b) {
                       return ops_[a].threshold < ops_[b].threshold;
                     });
  }

  // A fixed seed keeps runs, and so states_explored, reproducible.
  std::mt19937_64 keys(0x9e3779b97f4a7c15ULL);
  key_lo_.resize(ops_.size());
  key_hi_.resize(ops_.size());
  for (size_t i = 0; i < ops_.size(); ++i) {
    key_lo_[i] = keys();
    key_hi_[i] = keys();
  }
  done_.assign(ops_.size(), 0);
  group_next_.assign(groups_.size(), 0);
}

Frame Search::MakeFrame(int op, int prev_value, const Frame* parent) const {
  Frame frame;
  frame.op = op;
  frame.prev_value = prev_value;
  if (parent != nullptr) {
    frame.inv_lo = parent->inv_lo;
    frame.ret_lo = parent->ret_lo;
    frame.need_lo = parent->need_lo;
  }
  frame.inv_lo = SkipDone(known_by_inv_, frame.inv_lo);
  frame.ret_lo = SkipDone(known_by_ret_, frame.ret_lo);
  frame.need_lo = SkipDone(known_by_need_, frame.need_lo);
  if (frame.ret_lo < known_by_ret_.size()) {
    frame.min_ret = ops_[known_by_ret_[frame.ret_lo]].returned;
  }
  if (frame.need_lo < known_by_need_.size()) {
    frame.min_need = ops_[known_by_need_[frame.need_lo]].threshold;
  }
  frame.cursor = frame.inv_lo;
  return frame;
}

int Search::NextCandidate(Frame& frame) const {
  const size_t known_count = known_by_inv_.size();
  while (frame.cursor < known_count) {
    const int i = known_by_inv_[frame.cursor];
    if (ops_[i].invoked > frame.min_ret) {
      frame.cursor = known_count;
      break;
    }
    ++frame.cursor;
    if (!done_[i]) return i;
  }
  while (frame.cursor - known_count < groups_.size()) {
    const size_t g = frame.cursor - known_count;
    ++frame.cursor;
    if (group_next_[g] < groups_[g].size()) {
      const int i = groups_[g][group_next_[g]];
      if (ops_[i].invoked <= frame.min_ret) return i;
    }
  }
  return kNone;
}

LinearizabilityResult Search::Run() {
  LinearizabilityResult result;
  if (!malformed_.empty()) {
    result.explanation = malformed_;
    return result;
  }
  const size_t known_count = known_by_inv_.size();
  int value = initial_;
  uint64_t set_lo = 0;
  uint64_t set_hi = 0;
  size_t known_done = 0;
  absl::flat_hash_set<StateKey> seen;
  std::vector<Frame> stack;
  stack.push_back(MakeFrame(kNone, kAbsent, nullptr));

  while (known_done < known_count) {
    Frame& frame = stack.back();
    const int next_op = NextCandidate(frame);
    if (next_op == kNone) {
      if (stack.size() == 1) {
        result.states_explored = seen.size();
        result.explanation = Explain(/*gave_up=*/false);
        return result;
      }
      const Op& undone = ops_[frame.op];
      done_[frame.op] = 0;
      set_lo ^= key_lo_[frame.op];
      set_hi ^= key_hi_[frame.op];
      value = frame.prev_value;
      if (undone.unknown) {
        --group_next_[undone.group];
      } else {
        --known_done;
      }
      stack.pop_back();
      continue;
    }

    const Op& op = ops_[next_op];
    const int next_value = Step(op, value, values_);
    // An unknown operation without effect is the same as one that never
    // took effect, which every later state already allows for.
    if (next_value == kIllegal || (op.unknown && next_value == value)) {
      continue;
    }
    done_[next_op] = 1;
    const Frame child = MakeFrame(next_op, value, &frame);
    // A counter never decreases: an operation left behind a larger value
    // can never take effect, so nothing under this state can succeed.
    if (counter_ && child.min_need < values_.Get(next_value).rank) {
      done_[next_op] = 0;
      continue;
    }
    const StateKey key{set_lo ^ key_lo_[next_op], set_hi ^ key_hi_[next_op],
                       next_value};
    if (!seen.insert(key).second) {
      done_[next_op] = 0;
      continue;
    }
    if (seen.size() > max_states_) {
      result.gave_up = true;
      result.states_explored = seen.size();
      result.explanation = Explain(/*gave_up=*/true);
      return result;
    }
    set_lo = key.set_lo;
    set_hi = key.set_hi;
    value = next_value;
    if (op.unknown) {
      ++group_next_[op.group];
    } else {
      ++known_done;
    }
    stack.push_back(child);  // `frame` is invalid from here on.
    if (known_done > best_) {
      best_ = known_done;
      best_path_.clear();
      for (size_t k = 1; k < stack.size(); ++k) {
        best_path_.push_back(stack[k].op);
      }
    }
  }

  result.linearizable = true;
  result.states_explored = seen.size();
  for (size_t k = 1; k < stack.size(); ++k) {
    result.order.push_back(ops_[stack[k].op].source);
  }
  return result;
}

std::string Search::Explain(bool gave_up) {
  std::vector<char> done(ops_.size(), 0);
  int value = initial_;
  for (const int i : best_path_) {
    value = Step(ops_[i], value, values_);
    done[i] = 1;
  }
  std::string text =
      gave_up ? absl::StrCat("search budget exhausted: no answer after ",
                             max_states_, " states; the furthest it got")
              : std::string("not linearizable: the furthest the search got");
  absl::StrAppend(&text, " linearizes ", best_, " of the ",
                  known_by_inv_.size(), " operations of known outcome");
  if (best_path_.empty()) {
    absl::StrAppend(&text, "; at the start the register holds ",
                    Quote(values_, value));
  } else {
    // The last few operations place the failure; the whole prefix would
    // bury it.
    constexpr size_t kContext = 3;
    const size_t first =
        best_path_.size() > kContext ? best_path_.size() - kContext : 0;
    absl::StrAppend(&text, "; after ", first > 0 ? "... " : "");
    for (size_t k = first; k < best_path_.size(); ++k) {
      if (k > first) absl::StrAppend(&text, ", then ");
      absl::StrAppend(&text, Describe(values_, ops_[best_path_[k]]));
    }
    absl::StrAppend(&text, ", the register holds ", Quote(values_, value));
  }
  if (gave_up) return text;

  int64_t min_ret = kMax;
  for (const int i : known_by_inv_) {
    if (!done[i]) min_ret = std::min(min_ret, ops_[i].returned);
  }
  absl::StrAppend(&text, ", and none of the operations that may come next "
                         "fits: ");
  constexpr size_t kListed = 8;
  size_t listed = 0;
  size_t more = 0;
  for (const int i : known_by_inv_) {
    if (done[i] || ops_[i].invoked > min_ret) continue;
    if (listed == kListed) {
      ++more;
      continue;
    }
    if (listed > 0) absl::StrAppend(&text, "; ");
    absl::StrAppend(&text, Describe(values_, ops_[i]));
    // Only the counter pruning leaves such an operation here.
    if (Step(ops_[i], value, values_) != kIllegal) {
      absl::StrAppend(&text, " (fits, but leaves an earlier one behind)");
    }
    ++listed;
  }
  if (more > 0) absl::StrAppend(&text, "; and ", more, " more");
  return text;
}

}  // namespace

LinearizabilityResult CheckLinearizable(const std::vector<RegisterOp>& history,
                                        std::optional<std::string> initial,
                                        size_t max_states) {
  return Search(history, initial, max_states).Run();
}

}  // namespace quorumkv
