// Redis's string commands over the gateway. Plain writes (SET without
// conditions, SETEX, MSET) are last-writer-wins puts; everything that reads
// before it writes (NX, XX, GET, KEEPTTL, GETSET, GETDEL, APPEND, the INCR
// family) is a conditional write on the linearizable path
// (doors/read_modify_write.h, CasRequest).
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/limits.h"
#include "doors/client_flags.h"
#include "doors/kv_gateway.h"
#include "doors/read_modify_write.h"
#include "doors/resp/redis_handlers.h"
#include "doors/resp/redis_session.h"

namespace quorumkv {
namespace {

using redis::StatusReply;
using redis::Visible;

std::string TooLarge(size_t bytes) {
  return RespReply::Error(absl::StrCat("ERR value of ", bytes,
                                       " bytes is over QuorumKV's limit of ",
                                       kMaxValueBytes, " bytes"));
}

// An expiry option's value in milliseconds from now; `unix` options
// (EXAT, PXAT) count from the epoch. nullopt with `error` set when it is
// not a positive integer in range.
std::optional<int64_t> ExpiryMillis(absl::string_view text, bool seconds,
                                    bool unix, absl::string_view command,
                                    std::string* error) {
  std::optional<int64_t> n = redis::ParseInteger(text);
  if (!n) {
    *error = RespReply::Error(redis::kNotInteger);
    return std::nullopt;
  }
  const int64_t limit = static_cast<int64_t>(kMaxTtlMs) / (seconds ? 1000 : 1);
  if (*n <= 0 || (!unix && *n > limit)) {
    *error = RespReply::Error(
        absl::StrCat("ERR invalid expire time in '", command, "' command"));
    return std::nullopt;
  }
  int64_t ms = seconds ? *n * 1000 : *n;
  if (unix) {
    if (*n > static_cast<int64_t>(kMaxTtlMs) / (seconds ? 1000 : 1) * 2) {
      *error = RespReply::Error(
          absl::StrCat("ERR invalid expire time in '", command, "' command"));
      return std::nullopt;
    }
    ms = redis::MillisUntil(ms);
  }
  return ms;
}

// A plain put; ttl_ms 0: no expiry, below 0: already expired (the key is
// deleted, as Redis does for an expiry in the past).
void Put(RedisCall call, std::string key, std::string value, int64_t ttl_ms,
         std::string ok_reply) {
  KvGateway* gateway = call.context->gateway;
  if (ttl_ms < 0) {
    DeleteRequest del;
    del.set_key(std::move(key));
    gateway->Call(std::move(del), [reply = std::move(call.reply),
                                   ok_reply = std::move(ok_reply)](
                                      absl::StatusOr<DeleteResponse> done) {
      reply(done.ok() ? ok_reply : StatusReply(done.status()));
    });
    return;
  }
  PutRequest put;
  put.set_key(std::move(key));
  put.set_value(std::move(value));
  put.set_ttl_ms(static_cast<uint64_t>(ttl_ms));
  gateway->Call(std::move(put), [reply = std::move(call.reply),
                                 ok_reply = std::move(ok_reply)](
                                    absl::StatusOr<PutResponse> done) {
    reply(done.ok() ? ok_reply : StatusReply(done.status()));
  });
}

// SET NX's fast way: one conditional write "if absent".
void PutIfAbsent(RedisCall call, int64_t ttl_ms, std::string stored,
                 std::string not_stored) {
  CasRequest cas;
  cas.set_key(call.args[1]);
  cas.set_any_key(true);
  cas.set_if_absent(true);
  cas.set_value(call.args[2]);
  cas.set_ttl_ms(static_cast<uint64_t>(ttl_ms));
  call.context->gateway->Call(
      std::move(cas),
      [reply = std::move(call.reply), stored = std::move(stored),
       not_stored = std::move(not_stored)](absl::StatusOr<CasResponse> done) {
        if (!done.ok()) return reply(StatusReply(done.status()));
        reply(done->applied() ? stored : not_stored);
      });
}

void Increment(RedisCall call, int64_t by) {
  CasRequest cas;
  cas.set_key(call.args[1]);
  cas.set_any_key(true);
  cas.set_increment(by);
  call.context->gateway->Call(
      std::move(cas),
      [reply = std::move(call.reply)](absl::StatusOr<CasResponse> done) {
        if (!done.ok()) {
          if (absl::IsInvalidArgument(done.status())) {
            return reply(RespReply::Error(
                absl::StrContains(done.status().message(), "overflow")
                    ? "ERR increment or decrement would overflow"
                    : redis::kNotInteger));
          }
          return reply(StatusReply(done.status()));
        }
        int64_t value = 0;
        if (!absl::SimpleAtoi(done->value(), &value)) {
          return reply(RespReply::Error(redis::kNotInteger));
        }
        reply(RespReply::Integer(value));
      });
}

// Runs `decide` as a read-modify-write of args[1]; `answer` makes the
// reply from the result.
void Rmw(RedisCall call, std::function<RowChange(const CurrentRow&)> decide,
         std::function<std::string(const RmwResult&)> answer) {
  ReadModifyWrite(call.context->gateway, call.args[1], std::move(decide),
                  [reply = std::move(call.reply), answer = std::move(answer)](
                      absl::StatusOr<RmwResult> done) {
                    if (!done.ok()) return reply(StatusReply(done.status()));
                    reply(answer(*done));
                  });
}

}  // namespace

void RedisGet(RedisCall call) {
  std::string missing = call.out.Null();
  redis::ReadKey(std::move(call), std::move(missing), [](const GetResponse& row) {
    return RespReply::Bulk(Visible(row.value()));
  });
}

void RedisSet(RedisCall call) {
  bool nx = false, xx = false, get = false, keepttl = false;
  bool has_expiry = false;
  int64_t ttl_ms = 0;
  for (size_t i = 3; i < call.args.size(); ++i) {
    const std::string option = absl::AsciiStrToUpper(call.args[i]);
    const bool has_next = i + 1 < call.args.size();
    if (option == "NX" && !xx) {
      nx = true;
    } else if (option == "XX" && !nx) {
      xx = true;
    } else if (option == "GET") {
      get = true;
    } else if (option == "KEEPTTL" && !has_expiry) {
      keepttl = true;
    } else if ((option == "EX" || option == "PX" || option == "EXAT" ||
                option == "PXAT") &&
               !keepttl && !has_expiry && has_next) {
      std::string error;
      std::optional<int64_t> ms =
          ExpiryMillis(call.args[++i], option == "EX" || option == "EXAT",
                       option == "EXAT" || option == "PXAT", "set", &error);
      if (!ms) return call.reply(error);
      has_expiry = true;
      // An absolute time already past: Redis stores nothing and deletes.
      ttl_ms = *ms > 0 ? *ms : -1;
    } else {
      return call.reply(RespReply::Error(redis::kSyntaxError));
    }
  }
  if (call.args[2].size() > kMaxValueBytes) {
    return call.reply(TooLarge(call.args[2].size()));
  }
  const RespReply out = call.out;
  if (!nx && !xx && !get && !keepttl) {
    std::string key = call.args[1], value = std::move(call.args[2]);
    return Put(std::move(call), std::move(key), std::move(value), ttl_ms,
               RespReply::Ok());
  }
  if (nx && !get && !keepttl && ttl_ms >= 0) {
    return PutIfAbsent(std::move(call), ttl_ms, RespReply::Ok(), out.Null());
  }
  const int64_t expires_at =
      ttl_ms > 0 ? absl::ToUnixMillis(absl::Now()) + ttl_ms : 0;
  std::string value = call.args[2];
  Rmw(
      std::move(call),
      [=](const CurrentRow& row) {
        RowChange change;
        if ((nx && row.found) || (xx && !row.found)) return change;
        if (ttl_ms < 0) {
          change.kind = row.found ? RowChange::kDelete : RowChange::kLeave;
          return change;
        }
        change.kind = RowChange::kStore;
        change.value = value;
        change.expires_at_ms = keepttl ? row.expires_at_ms : expires_at;
        return change;
      },
      [=](const RmwResult& result) {
        if (get) {
          return result.before.found
                     ? RespReply::Bulk(Visible(result.before.value))
                     : out.Null();
        }
        const bool stored = !((nx && result.before.found) ||
                              (xx && !result.before.found));
        return stored ? RespReply::Ok() : out.Null();
      });
}

void RedisSetnx(RedisCall call) {
  if (call.args[2].size() > kMaxValueBytes) {
    return call.reply(TooLarge(call.args[2].size()));
  }
  PutIfAbsent(std::move(call), 0, RespReply::Integer(1), RespReply::Integer(0));
}

namespace {

void SetWithExpiry(RedisCall call, bool seconds, absl::string_view name) {
  std::string error;
  std::optional<int64_t> ms =
      ExpiryMillis(call.args[2], seconds, /*unix=*/false, name, &error);
  if (!ms) return call.reply(error);
  if (call.args[3].size() > kMaxValueBytes) {
    return call.reply(TooLarge(call.args[3].size()));
  }
  std::string key = call.args[1], value = std::move(call.args[3]);
  Put(std::move(call), std::move(key), std::move(value), *ms, RespReply::Ok());
}

}  // namespace

void RedisSetex(RedisCall call) { SetWithExpiry(std::move(call), true, "setex"); }
void RedisPsetex(RedisCall call) {
  SetWithExpiry(std::move(call), false, "psetex");
}

void RedisGetset(RedisCall call) {
  if (call.args[2].size() > kMaxValueBytes) {
    return call.reply(TooLarge(call.args[2].size()));
  }
  const RespReply out = call.out;
  std::string value = call.args[2];
  Rmw(
      std::move(call),
      [value](const CurrentRow&) {
        RowChange change;
        change.kind = RowChange::kStore;
        change.value = value;
        return change;
      },
      [out](const RmwResult& result) {
        return result.before.found ? RespReply::Bulk(Visible(result.before.value))
                                   : out.Null();
      });
}

void RedisGetdel(RedisCall call) {
  const RespReply out = call.out;
  Rmw(
      std::move(call),
      [](const CurrentRow& row) {
        RowChange change;
        if (row.found) change.kind = RowChange::kDelete;
        return change;
      },
      [out](const RmwResult& result) {
        return result.before.found ? RespReply::Bulk(Visible(result.before.value))
                                   : out.Null();
      });
}

void RedisGetex(RedisCall call) {
  // GETEX key [EX s | PX ms | EXAT t | PXAT t | PERSIST]
  std::optional<int64_t> ttl_ms;  // 0: persist
  if (call.args.size() > 2) {
    const std::string option = absl::AsciiStrToUpper(call.args[2]);
    if (option == "PERSIST" && call.args.size() == 3) {
      ttl_ms = 0;
    } else if ((option == "EX" || option == "PX" || option == "EXAT" ||
                option == "PXAT") &&
               call.args.size() == 4) {
      std::string error;
      std::optional<int64_t> ms =
          ExpiryMillis(call.args[3], option == "EX" || option == "EXAT",
                       option == "EXAT" || option == "PXAT", "getex", &error);
      if (!ms) return call.reply(error);
      ttl_ms = *ms > 0 ? *ms : -1;
    } else {
      return call.reply(RespReply::Error(redis::kSyntaxError));
    }
  }
  KvGateway* gateway = call.context->gateway;
  GetRequest get;
  get.set_key(call.args[1]);
  gateway->Call(std::move(get), [gateway, key = call.args[1], ttl_ms,
                                 out = call.out, reply = std::move(call.reply)](
                                    absl::StatusOr<GetResponse> done) {
    if (absl::IsNotFound(done.status())) return reply(out.Null());
    if (!done.ok()) return reply(StatusReply(done.status()));
    std::string value = RespReply::Bulk(Visible(done->value()));
    if (!ttl_ms) return reply(std::move(value));
    auto finish = [reply, value](const absl::Status& status) {
      reply(status.ok() ? value : StatusReply(status));
    };
    if (*ttl_ms < 0) {
      DeleteRequest del;
      del.set_key(key);
      return gateway->Call(std::move(del),
                           [finish](absl::StatusOr<DeleteResponse> d) {
                             finish(d.status());
                           });
    }
    ExpireRequest expire;
    expire.set_key(key);
    expire.set_ttl_ms(static_cast<uint64_t>(*ttl_ms));
    gateway->Call(std::move(expire), [finish](absl::StatusOr<ExpireResponse> e) {
      finish(e.status());
    });
  });
}

void RedisMget(RedisCall call) {
  struct Gathered {
    absl::Mutex mu;
    std::vector<std::string> replies ABSL_GUARDED_BY(mu);
    size_t left ABSL_GUARDED_BY(mu) = 0;
  };
  auto gathered = std::make_shared<Gathered>();
  const size_t n = call.args.size() - 1;
  {
    absl::MutexLock lock(&gathered->mu);
    gathered->replies.resize(n);
    gathered->left = n;
  }
  auto reply = std::make_shared<Reply>(std::move(call.reply));
  for (size_t i = 0; i < n; ++i) {
    GetRequest get;
    get.set_key(call.args[i + 1]);
    call.context->gateway->Call(std::move(get), [gathered, reply, i, out = call.out](
                                                    absl::StatusOr<GetResponse> done) {
      // A key that could not be read answers nil, as an unreachable
      // Redis Cluster shard would fail the whole call; QuorumKV keeps
      // the others.
      std::string one = done.ok() ? RespReply::Bulk(Visible(done->value()))
                                  : out.Null();
      std::string all;
      {
        absl::MutexLock lock(&gathered->mu);
        gathered->replies[i] = std::move(one);
        if (--gathered->left > 0) return;
        all = RespReply::ArrayHeader(gathered->replies.size());
        for (const std::string& r : gathered->replies) all += r;
      }
      (*reply)(std::move(all));
    });
  }
}

void RedisMset(RedisCall call) {
  if (call.args.size() % 2 == 0) {
    return call.reply(RespReply::Error("ERR wrong number of arguments for 'mset' command"));
  }
  for (size_t i = 2; i < call.args.size(); i += 2) {
    if (call.args[i].size() > kMaxValueBytes) {
      return call.reply(TooLarge(call.args[i].size()));
    }
  }
  struct Gathered {
    absl::Mutex mu;
    size_t left ABSL_GUARDED_BY(mu) = 0;
    absl::Status first_error ABSL_GUARDED_BY(mu);
  };
  auto gathered = std::make_shared<Gathered>();
  const size_t n = (call.args.size() - 1) / 2;
  {
    absl::MutexLock lock(&gathered->mu);
    gathered->left = n;
  }
  auto reply = std::make_shared<Reply>(std::move(call.reply));
  for (size_t i = 0; i < n; ++i) {
    PutRequest put;
    put.set_key(std::move(call.args[1 + 2 * i]));
    put.set_value(std::move(call.args[2 + 2 * i]));
    call.context->gateway->Call(std::move(put), [gathered, reply](
                                                    absl::StatusOr<PutResponse> done) {
      absl::Status error;
      {
        absl::MutexLock lock(&gathered->mu);
        if (!done.ok() && gathered->first_error.ok()) {
          gathered->first_error = done.status();
        }
        if (--gathered->left > 0) return;
        error = gathered->first_error;
      }
      (*reply)(error.ok() ? RespReply::Ok() : StatusReply(error));
    });
  }
}

void RedisStrlen(RedisCall call) {
  redis::ReadKey(std::move(call), RespReply::Integer(0), [](const GetResponse& row) {
    return RespReply::Integer(static_cast<int64_t>(Visible(row.value()).size()));
  });
}

void RedisAppend(RedisCall call) {
  std::string suffix = call.args[2];
  Rmw(
      std::move(call),
      [suffix](const CurrentRow& row) {
        RowChange change;
        const FlaggedValue old = SplitClientFlags(row.value);
        if (old.value.size() + suffix.size() > kMaxValueBytes) return change;
        change.kind = RowChange::kStore;
        change.value = WithClientFlags(old.flags, absl::StrCat(old.value, suffix));
        change.expires_at_ms = row.expires_at_ms;
        return change;
      },
      [suffix](const RmwResult& result) {
        const size_t length =
            SplitClientFlags(result.before.value).value.size() + suffix.size();
        if (!result.applied) return TooLarge(length);
        return RespReply::Integer(static_cast<int64_t>(length));
      });
}

void RedisIncr(RedisCall call) { Increment(std::move(call), 1); }
void RedisDecr(RedisCall call) { Increment(std::move(call), -1); }

void RedisIncrby(RedisCall call) {
  std::optional<int64_t> by = redis::ParseInteger(call.args[2]);
  if (!by) return call.reply(RespReply::Error(redis::kNotInteger));
  Increment(std::move(call), *by);
}

void RedisDecrby(RedisCall call) {
  std::optional<int64_t> by = redis::ParseInteger(call.args[2]);
  if (!by || *by == INT64_MIN) {
    return call.reply(RespReply::Error(
        by ? "ERR decrement would overflow" : std::string(redis::kNotInteger)));
  }
  Increment(std::move(call), -*by);
}

}  // namespace quorumkv
