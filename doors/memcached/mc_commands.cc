#include "doors/memcached/mc_commands.h"

#include <unistd.h>

#include <atomic>
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/hash.h"
#include "doors/client_flags.h"
#include "doors/memcached/mc_internal.h"
#include "doors/read_modify_write.h"

namespace quorumkv {
namespace mc_internal {

// ---------------------------------------------------------------- reads

void ReadKey(KvGateway* gateway, const std::string& key, ItemDone done) {
  GetRequest get;
  get.set_key(key);
  gateway->Call(std::move(get), [done = std::move(done)](
                                    absl::StatusOr<GetResponse> got) {
    Item item;
    if (got.ok()) {
      item.found = true;
      item.stored = std::move(*got->mutable_value());
      item.version = got->version();
      item.expires_at_ms = got->expires_at_ms();
    } else if (!absl::IsNotFound(got.status())) {
      return done(got.status());
    }
    done(std::move(item));
  });
}

// Reads `key` once its expiry is `expiry` (gat, gats, mg T). The expiry
// is set with an ExpireRequest, the key's expiry register of its own:
// the value and its version stay as they are, so a gats' cas unique is
// the one the key's last store gave (memcached's touch keeps an item's
// cas), and a write racing the touch is never undone. Rewriting the value
// with the new expiry (a read-modify-write) would change the version, so
// the cas unique a client holds, and copy the whole value to change its
// expiry.
void TouchAndGet(KvGateway* gateway, const std::string& key, McExpiry expiry,
                 ItemDone done) {
  if (expiry.expired) {
    // memcached hands the item back, and then it is gone.
    ReadKey(gateway, key, [gateway, key, done](absl::StatusOr<Item> item) {
      if (!item.ok() || !item->found) return done(std::move(item));
      DeleteRequest del;
      del.set_key(key);
      gateway->Call(std::move(del),
                    [done, found = std::move(*item)](
                        absl::StatusOr<DeleteResponse> deleted) {
                      if (!deleted.ok()) return done(deleted.status());
                      done(found);
                    });
    });
    return;
  }
  ExpireRequest expire;
  expire.set_key(key);
  expire.set_ttl_ms(expiry.ttl_ms);
  gateway->Call(std::move(expire), [gateway, key, done](
                                       absl::StatusOr<ExpireResponse> set) {
    if (!set.ok()) return done(set.status());
    if (!set->existed()) return done(Item());
    ReadKey(gateway, key, done);
  });
}

// --------------------------------------------------------------- stores

namespace {

// What memcached answers `op` on `row`.
Stored JudgeStore(const StoreOp& op, const CurrentRow& row) {
  switch (op.mode) {
    case StoreMode::kSet:
      return Stored::kStored;
    case StoreMode::kAdd:
      return row.found ? Stored::kNotStored : Stored::kStored;
    case StoreMode::kReplace:
      return row.found ? Stored::kStored : Stored::kNotStored;
    case StoreMode::kCas:
      if (!row.found) return Stored::kNotFound;
      return CasUnique(row.version) == op.cas ? Stored::kStored
                                              : Stored::kExists;
    case StoreMode::kAppend:
    case StoreMode::kPrepend:
      if (!row.found) return Stored::kNotStored;
      // A cas of 0 is no cas, as memcached reads it.
      if (op.has_cas && op.cas != 0 && CasUnique(row.version) != op.cas) {
        return Stored::kExists;
      }
      // Too large together: memcached cannot make the item and answers
      // NOT_STORED.
      if (SplitClientFlags(row.value).value.size() + op.data.size() >
          kMcMaxDataBytes) {
        return Stored::kNotStored;
      }
      return Stored::kStored;
  }
  return Stored::kNotStored;
}

RowChange StoreChange(const StoreOp& op, const CurrentRow& row) {
  RowChange change;
  if (JudgeStore(op, row) != Stored::kStored) return change;
  if (op.mode == StoreMode::kAppend || op.mode == StoreMode::kPrepend) {
    // The old flags and expiry stay: memcached ignores the command's.
    const FlaggedValue old = SplitClientFlags(row.value);
    change.kind = RowChange::kStore;
    change.value = WithClientFlags(
        old.flags, op.mode == StoreMode::kAppend
                       ? absl::StrCat(old.value, op.data)
                       : absl::StrCat(op.data, old.value));
    change.expires_at_ms = row.expires_at_ms;
    return change;
  }
  if (op.expiry.expired) {
    if (row.found) change.kind = RowChange::kDelete;
    return change;
  }
  change.kind = RowChange::kStore;
  change.value = WithClientFlags(op.flags, op.data);
  change.expires_at_ms = op.expiry.expires_at_ms;
  return change;
}

}  // namespace

void RunStore(KvGateway* gateway, std::shared_ptr<const StoreOp> op,
              std::function<void(absl::StatusOr<StoreOutcome>)> done) {
  if (op->mode == StoreMode::kSet && op->expiry.expired) {
    // Stored and expired at once: the key is left absent.
    DeleteRequest del;
    del.set_key(op->key);
    gateway->Call(std::move(del),
                  [done](absl::StatusOr<DeleteResponse> deleted) {
                    if (!deleted.ok()) return done(deleted.status());
                    done(StoreOutcome());
                  });
    return;
  }
  if (op->mode == StoreMode::kSet) {
    PutRequest put;
    put.set_key(op->key);
    put.set_value(WithClientFlags(op->flags, op->data));
    put.set_ttl_ms(op->expiry.ttl_ms);
    gateway->Call(std::move(put), [done](absl::StatusOr<PutResponse> answer) {
      if (!answer.ok()) return done(answer.status());
      StoreOutcome outcome;
      outcome.has_version = true;
      outcome.version = answer->version();
      done(std::move(outcome));
    });
    return;
  }
  ReadModifyWrite(
      gateway, op->key,
      [op](const CurrentRow& row) { return StoreChange(*op, row); },
      [op, done](absl::StatusOr<RmwResult> result) {
        if (!result.ok()) return done(result.status());
        // Judged again on the row the last decision was made on.
        StoreOutcome outcome;
        outcome.result = JudgeStore(*op, result->before);
        outcome.has_version = result->applied;
        outcome.version = result->version;
        done(std::move(outcome));
      });
}

// ------------------------------------------------------------- counters

namespace {

// memcached's arithmetic: incr wraps at 2^64, decr stops at 0.
Counted JudgeCounter(const CounterOp& op, const CurrentRow& row) {
  Counted counted;
  if (!row.found) {
    if (op.vivify) {
      counted.kind = Counted::kCreated;
      counted.value = op.initial;
      counted.expires_at_ms = op.vivify_expiry.expires_at_ms;
    }
    return counted;
  }
  if (op.has_cas && op.cas != 0 && CasUnique(row.version) != op.cas) {
    counted.kind = Counted::kExists;
    return counted;
  }
  uint64_t old = 0;
  if (!ParseMcNumber(SplitClientFlags(row.value).value, &old)) {
    counted.kind = Counted::kNonNumeric;
    return counted;
  }
  counted.kind = Counted::kUpdated;
  counted.value = op.incr ? old + op.delta
                          : (op.delta > old ? 0 : old - op.delta);
  counted.expires_at_ms = op.has_ttl ? op.ttl.expires_at_ms : row.expires_at_ms;
  return counted;
}

RowChange CounterChange(const CounterOp& op, const CurrentRow& row) {
  const Counted counted = JudgeCounter(op, row);
  RowChange change;
  if (counted.kind == Counted::kCreated) {
    if (op.vivify_expiry.expired) return change;
    change.kind = RowChange::kStore;
    change.value = absl::StrCat(counted.value);
    change.expires_at_ms = counted.expires_at_ms;
    return change;
  }
  if (counted.kind != Counted::kUpdated) return change;
  if (op.has_ttl && op.ttl.expired) {
    change.kind = RowChange::kDelete;
    return change;
  }
  const FlaggedValue old = SplitClientFlags(row.value);
  std::string number = absl::StrCat(counted.value);
  // memcached rewrites a number that is no longer than the old one in
  // place, padded with spaces; `get` then shows the padding.
  if (number.size() < old.value.size()) number.resize(old.value.size(), ' ');
  change.kind = RowChange::kStore;
  change.value = WithClientFlags(old.flags, number);
  change.expires_at_ms = counted.expires_at_ms;
  return change;
}

}  // namespace

void RunCounter(KvGateway* gateway, const std::string& key,
                std::shared_ptr<const CounterOp> op,
                std::function<void(absl::StatusOr<RmwResult>, Counted)> done) {
  ReadModifyWrite(
      gateway, key,
      [op](const CurrentRow& row) { return CounterChange(*op, row); },
      [op, done](absl::StatusOr<RmwResult> result) {
        Counted counted;
        if (result.ok()) counted = JudgeCounter(*op, result->before);
        done(std::move(result), counted);
      });
}

}  // namespace mc_internal

namespace {

using mc_internal::Counted;
using mc_internal::CounterOp;
using mc_internal::Item;
using mc_internal::ItemDone;
using mc_internal::kNonNumeric;
using mc_internal::NowMs;
using mc_internal::ReadKey;
using mc_internal::RunCounter;
using mc_internal::RunStore;
using mc_internal::Stored;
using mc_internal::StoreMode;
using mc_internal::StoreOp;
using mc_internal::StoreOutcome;
using mc_internal::TouchAndGet;

struct Retrieval {
  McEnv env;
  McRequest request;
  McDone done;
  std::vector<absl::StatusOr<Item>> items;  // each written by one read
  std::atomic<size_t> left{0};              // reads not answered yet

  void Finish() {
    for (const absl::StatusOr<Item>& item : items) {
      if (!item.ok()) return done(McServerError(item.status()));
    }
    const McCommand command = request.command;
    const bool with_cas =
        command == McCommand::kGets || command == McCommand::kGats;
    const bool touch = command == McCommand::kGat || command == McCommand::kGats;
    uint64_t hits = 0;
    std::string reply;
    for (size_t i = 0; i < items.size(); ++i) {
      const Item& item = *items[i];
      if (!item.found) continue;
      ++hits;
      const FlaggedValue value = SplitClientFlags(item.stored);
      absl::StrAppend(&reply, "VALUE ", request.keys[i], " ", value.flags,
                      " ", value.value.size());
      if (with_cas) absl::StrAppend(&reply, " ", CasUnique(item.version));
      absl::StrAppend(&reply, "\r\n", value.value, "\r\n");
    }
    reply += "END\r\n";
    if (touch) {
      env.counters->cmd_touch.fetch_add(items.size(), std::memory_order_relaxed);
    } else {
      env.counters->cmd_get.fetch_add(items.size(), std::memory_order_relaxed);
      env.counters->get_hits.fetch_add(hits, std::memory_order_relaxed);
      env.counters->get_misses.fetch_add(items.size() - hits,
                                         std::memory_order_relaxed);
    }
    done(std::move(reply));
  }
};

}  // namespace

uint64_t CasUnique(const Version& version) {
  std::string bytes;
  bytes.reserve(12 + version.node_id().size());
  for (int shift = 56; shift >= 0; shift -= 8) {
    bytes.push_back(static_cast<char>((version.wall_ms() >> shift) & 0xff));
  }
  for (int shift = 24; shift >= 0; shift -= 8) {
    bytes.push_back(static_cast<char>((version.logical() >> shift) & 0xff));
  }
  bytes += version.node_id();
  const uint64_t hash = StableHash(bytes);
  return hash == 0 ? 1 : hash;
}

McExpiry ResolveExptime(int64_t exptime, int64_t now_ms) {
  McExpiry expiry;
  if (exptime == 0) return expiry;
  if (exptime < 0) {
    expiry.expired = true;
    return expiry;
  }
  const int64_t at_ms = exptime <= kMcMaxRelativeExptime
                            ? now_ms + exptime * 1000
                            : exptime * 1000;
  if (at_ms <= now_ms) {
    expiry.expired = true;
    return expiry;
  }
  expiry.expires_at_ms = at_ms;
  expiry.ttl_ms = static_cast<uint64_t>(at_ms - now_ms);
  return expiry;
}

std::string McServerError(const absl::Status& status) {
  std::string message(status.message());
  if (message.empty()) message = absl::StatusCodeToString(status.code());
  for (char& c : message) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return absl::StrCat("SERVER_ERROR ", message, "\r\n");
}

void McRetrieve(McEnv env, McRequest request, McDone done) {
  if (request.keys.empty()) return done("END\r\n");
  const bool touch = request.command == McCommand::kGat ||
                     request.command == McCommand::kGats;
  const McExpiry expiry =
      touch ? ResolveExptime(request.exptime, NowMs()) : McExpiry();
  auto retrieval = std::make_shared<Retrieval>();
  retrieval->env = env;
  retrieval->request = std::move(request);
  retrieval->done = std::move(done);
  const size_t keys = retrieval->request.keys.size();
  retrieval->items.resize(keys);
  retrieval->left.store(keys, std::memory_order_relaxed);
  for (size_t i = 0; i < keys; ++i) {
    ItemDone one = [retrieval, i](absl::StatusOr<Item> item) {
      retrieval->items[i] = std::move(item);
      // The last answer sees every other one's item.
      if (retrieval->left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        retrieval->Finish();
      }
    };
    const std::string& key = retrieval->request.keys[i];
    if (touch) {
      TouchAndGet(env.gateway, key, expiry, std::move(one));
    } else {
      ReadKey(env.gateway, key, std::move(one));
    }
  }
}

void McStore(McEnv env, McRequest request, McDone done) {
  env.counters->cmd_set.fetch_add(1, std::memory_order_relaxed);
  auto op = std::make_shared<StoreOp>();
  switch (request.command) {
    case McCommand::kAdd: op->mode = StoreMode::kAdd; break;
    case McCommand::kReplace: op->mode = StoreMode::kReplace; break;
    case McCommand::kAppend: op->mode = StoreMode::kAppend; break;
    case McCommand::kPrepend: op->mode = StoreMode::kPrepend; break;
    case McCommand::kCas: op->mode = StoreMode::kCas; break;
    default: op->mode = StoreMode::kSet; break;
  }
  op->key = std::move(request.keys[0]);
  op->flags = request.flags;
  op->data = std::move(request.data);
  op->expiry = ResolveExptime(request.exptime, NowMs());
  op->has_cas = op->mode == StoreMode::kCas;
  op->cas = request.cas_unique;
  RunStore(env.gateway, std::move(op),
           [done](absl::StatusOr<StoreOutcome> outcome) {
             if (!outcome.ok()) return done(McServerError(outcome.status()));
             switch (outcome->result) {
               case Stored::kStored: return done("STORED\r\n");
               case Stored::kNotStored: return done("NOT_STORED\r\n");
               case Stored::kExists: return done("EXISTS\r\n");
               case Stored::kNotFound: return done("NOT_FOUND\r\n");
             }
           });
}

void McDelete(McEnv env, McRequest request, McDone done) {
  DeleteRequest del;
  del.set_key(std::move(request.keys[0]));
  env.gateway->Call(std::move(del),
                    [done](absl::StatusOr<DeleteResponse> deleted) {
                      if (!deleted.ok()) {
                        return done(McServerError(deleted.status()));
                      }
                      done(deleted->existed() ? "DELETED\r\n"
                                              : "NOT_FOUND\r\n");
                    });
}

void McArithmetic(McEnv env, McRequest request, McDone done) {
  auto op = std::make_shared<CounterOp>();
  op->incr = request.command == McCommand::kIncr;
  op->delta = request.delta;
  RunCounter(env.gateway, request.keys[0], std::move(op),
             [done](absl::StatusOr<RmwResult> result, Counted counted) {
               if (!result.ok()) return done(McServerError(result.status()));
               switch (counted.kind) {
                 case Counted::kNotFound: return done("NOT_FOUND\r\n");
                 case Counted::kNonNumeric:
                   return done(std::string(kNonNumeric));
                 default: return done(absl::StrCat(counted.value, "\r\n"));
               }
             });
}

void McTouch(McEnv env, McRequest request, McDone done) {
  env.counters->cmd_touch.fetch_add(1, std::memory_order_relaxed);
  const McExpiry expiry = ResolveExptime(request.exptime, NowMs());
  auto answer = [done](bool existed) {
    done(existed ? "TOUCHED\r\n" : "NOT_FOUND\r\n");
  };
  if (expiry.expired) {
    // Touched into the past: the item is gone, as memcached's would be.
    DeleteRequest del;
    del.set_key(std::move(request.keys[0]));
    env.gateway->Call(std::move(del), [done, answer](
                                          absl::StatusOr<DeleteResponse> r) {
      if (!r.ok()) return done(McServerError(r.status()));
      answer(r->existed());
    });
    return;
  }
  ExpireRequest expire;
  expire.set_key(std::move(request.keys[0]));
  expire.set_ttl_ms(expiry.ttl_ms);  // 0: persist
  env.gateway->Call(std::move(expire), [done, answer](
                                           absl::StatusOr<ExpireResponse> r) {
    if (!r.ok()) return done(McServerError(r.status()));
    answer(r->existed());
  });
}

std::string McStats(McCounters* counters, absl::string_view version,
                    absl::Time started, const std::vector<std::string>& args) {
  if (!args.empty()) {
    const std::string& group = args[0];
    if (group == "reset") {
      for (std::atomic<uint64_t>* counter :
           {&counters->cmd_get, &counters->get_hits, &counters->get_misses,
            &counters->cmd_set, &counters->cmd_touch}) {
        counter->store(0, std::memory_order_relaxed);
      }
      return "RESET\r\n";
    }
    // memcached's other groups: nothing of them applies to the door.
    if (group == "settings" || group == "items" || group == "slabs" ||
        group == "sizes" || group == "conns") {
      return "END\r\n";
    }
    return "ERROR\r\n";
  }
  const absl::Time now = absl::Now();
  std::string out;
  auto stat = [&out](absl::string_view name, const auto& value) {
    absl::StrAppend(&out, "STAT ", name, " ", value, "\r\n");
  };
  stat("pid", static_cast<int64_t>(getpid()));
  stat("uptime", absl::ToInt64Seconds(now - started));
  stat("time", absl::ToUnixSeconds(now));
  stat("version", version);
  stat("pointer_size", sizeof(void*) * 8);
  auto load = [](const std::atomic<uint64_t>& counter) {
    return counter.load(std::memory_order_relaxed);
  };
  stat("curr_connections", load(counters->curr_connections));
  stat("total_connections", load(counters->total_connections));
  stat("cmd_get", load(counters->cmd_get));
  stat("cmd_set", load(counters->cmd_set));
  stat("cmd_touch", load(counters->cmd_touch));
  stat("get_hits", load(counters->get_hits));
  stat("get_misses", load(counters->get_misses));
  out += "END\r\n";
  return out;
}

}  // namespace quorumkv
