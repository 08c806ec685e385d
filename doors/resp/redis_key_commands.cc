// Redis's key commands over the gateway: DEL, EXISTS, TYPE, the EXPIRE
// family, TTL, PERSIST and SCAN. Expiry changes are last-writer-wins
// (ExpireRequest): the expiry is a register of its own beside the value.
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/limits.h"
#include "doors/kv_gateway.h"
#include "doors/resp/glob.h"
#include "doors/resp/redis_handlers.h"
#include "doors/resp/redis_session.h"
#include "doors/resp/scan_cursors.h"

namespace quorumkv {
namespace {

using redis::StatusReply;

// Sends one request per key of args[1..] and replies with how many `count`
// said yes (DEL, EXISTS).
template <typename Request>
void CountKeys(
    RedisCall call,
    std::function<bool(const absl::StatusOr<typename KvMethod<Request>::Response>&)>
        count) {
  struct Gathered {
    absl::Mutex mu;
    size_t left ABSL_GUARDED_BY(mu) = 0;
    int64_t yes ABSL_GUARDED_BY(mu) = 0;
    absl::Status error ABSL_GUARDED_BY(mu);
  };
  auto gathered = std::make_shared<Gathered>();
  const size_t n = call.args.size() - 1;
  {
    absl::MutexLock lock(&gathered->mu);
    gathered->left = n;
  }
  auto reply = std::make_shared<Reply>(std::move(call.reply));
  for (size_t i = 1; i <= n; ++i) {
    Request request;
    request.set_key(call.args[i]);
    call.context->gateway->Call(
        std::move(request),
        [gathered, reply, count](
            absl::StatusOr<typename KvMethod<Request>::Response> done) {
          const bool failed = !done.ok() && !absl::IsNotFound(done.status());
          const bool yes = !failed && count(done);
          std::string answer;
          {
            absl::MutexLock lock(&gathered->mu);
            if (failed && gathered->error.ok()) gathered->error = done.status();
            if (yes) ++gathered->yes;
            if (--gathered->left > 0) return;
            answer = gathered->error.ok() ? RespReply::Integer(gathered->yes)
                                          : StatusReply(gathered->error);
          }
          (*reply)(std::move(answer));
        });
  }
}

// Sets args[1]'s expiry `ttl_ms` from now (below or at 0: deletes the key,
// as Redis does for an expiry in the past); replies 1 when the key existed.
void SetExpiry(RedisCall call, int64_t ttl_ms) {
  KvGateway* gateway = call.context->gateway;
  if (ttl_ms <= 0) {
    DeleteRequest del;
    del.set_key(call.args[1]);
    gateway->Call(std::move(del), [reply = std::move(call.reply)](
                                      absl::StatusOr<DeleteResponse> done) {
      if (!done.ok()) return reply(StatusReply(done.status()));
      reply(RespReply::Integer(done->existed() ? 1 : 0));
    });
    return;
  }
  ExpireRequest expire;
  expire.set_key(call.args[1]);
  expire.set_ttl_ms(static_cast<uint64_t>(ttl_ms));
  gateway->Call(std::move(expire), [reply = std::move(call.reply)](
                                       absl::StatusOr<ExpireResponse> done) {
    if (!done.ok()) return reply(StatusReply(done.status()));
    reply(RespReply::Integer(done->existed() ? 1 : 0));
  });
}

// EXPIRE key n [NX|XX|GT|LT]: `seconds` and `unix` say how n counts.
void Expire(RedisCall call, bool seconds, bool unix, absl::string_view name) {
  std::optional<int64_t> n = redis::ParseInteger(call.args[2]);
  if (!n) return call.reply(RespReply::Error(redis::kNotInteger));
  const int64_t scale = seconds ? 1000 : 1;
  if (*n > static_cast<int64_t>(kMaxTtlMs) / scale * (unix ? 2 : 1) ||
      *n < -static_cast<int64_t>(kMaxTtlMs) / scale) {
    return call.reply(RespReply::Error(
        absl::StrCat("ERR invalid expire time in '", name, "' command")));
  }
  const int64_t ms = unix ? redis::MillisUntil(*n * scale) : *n * scale;
  std::string condition;
  if (call.args.size() > 4) {
    return call.reply(RespReply::Error(redis::kSyntaxError));
  }
  if (call.args.size() == 4) {
    condition = absl::AsciiStrToUpper(call.args[3]);
    if (condition != "NX" && condition != "XX" && condition != "GT" &&
        condition != "LT") {
      return call.reply(RespReply::Error(
          absl::StrCat("ERR Unsupported option ", call.args[3])));
    }
  }
  if (condition.empty()) return SetExpiry(std::move(call), ms);
  // The condition is judged on the expiry read now; the expiry written
  // after is last-writer-wins, like every expiry change.
  GetRequest get;
  get.set_key(call.args[1]);
  KvGateway* gateway = call.context->gateway;
  auto shared = std::make_shared<RedisCall>(std::move(call));
  gateway->Call(std::move(get), [shared, condition, ms](
                                    absl::StatusOr<GetResponse> done) {
    if (absl::IsNotFound(done.status())) return shared->reply(RespReply::Integer(0));
    if (!done.ok()) return shared->reply(StatusReply(done.status()));
    const int64_t now = absl::ToUnixMillis(absl::Now());
    const bool has = done->expires_at_ms() > 0;
    const int64_t current = done->expires_at_ms() - now;  // when has
    const bool go = condition == "NX"   ? !has
                    : condition == "XX" ? has
                    : condition == "GT" ? has && ms > current
                                        : !has || ms < current;
    if (!go) return shared->reply(RespReply::Integer(0));
    SetExpiry(std::move(*shared), ms);
  });
}

// TTL/PTTL: -2 no key, -1 no expiry, else what is left in `unit` ms.
void TimeToLive(RedisCall call, int64_t unit) {
  redis::ReadKey(std::move(call), RespReply::Integer(-2), [unit](const GetResponse& row) {
    if (row.expires_at_ms() == 0) return RespReply::Integer(-1);
    const int64_t left =
        std::max<int64_t>(0, row.expires_at_ms() - absl::ToUnixMillis(absl::Now()));
    // Redis rounds seconds to the nearest.
    return RespReply::Integer(unit == 1 ? left : (left + 500) / 1000);
  });
}

}  // namespace

void RedisDel(RedisCall call) {
  CountKeys<DeleteRequest>(
      std::move(call), [](const absl::StatusOr<DeleteResponse>& done) {
        return done.ok() && done->existed();
      });
}

void RedisExists(RedisCall call) {
  CountKeys<GetRequest>(std::move(call),
                        [](const absl::StatusOr<GetResponse>& done) {
                          return done.ok();
                        });
}

void RedisType(RedisCall call) {
  redis::ReadKey(std::move(call), RespReply::Simple("none"),
                 [](const GetResponse&) { return RespReply::Simple("string"); });
}

void RedisExpire(RedisCall call) { Expire(std::move(call), true, false, "expire"); }
void RedisPexpire(RedisCall call) {
  Expire(std::move(call), false, false, "pexpire");
}
void RedisExpireat(RedisCall call) {
  Expire(std::move(call), true, true, "expireat");
}
void RedisPexpireat(RedisCall call) {
  Expire(std::move(call), false, true, "pexpireat");
}
void RedisTtl(RedisCall call) { TimeToLive(std::move(call), 1000); }
void RedisPttl(RedisCall call) { TimeToLive(std::move(call), 1); }

void RedisPersist(RedisCall call) {
  GetRequest get;
  get.set_key(call.args[1]);
  KvGateway* gateway = call.context->gateway;
  gateway->Call(std::move(get), [gateway, key = call.args[1],
                                 reply = std::move(call.reply)](
                                    absl::StatusOr<GetResponse> done) {
    if (absl::IsNotFound(done.status())) return reply(RespReply::Integer(0));
    if (!done.ok()) return reply(StatusReply(done.status()));
    if (done->expires_at_ms() == 0) return reply(RespReply::Integer(0));
    ExpireRequest persist;  // ttl_ms 0: clears the expiry
    persist.set_key(key);
    gateway->Call(std::move(persist),
                  [reply](absl::StatusOr<ExpireResponse> cleared) {
                    if (!cleared.ok()) return reply(StatusReply(cleared.status()));
                    reply(RespReply::Integer(cleared->existed() ? 1 : 0));
                  });
  });
}

namespace {

// One SCAN call's walk: pages of partitions from the cursor on until COUNT
// keys matched, the partitions ran out, or kMaxPages pages were read.
class ScanWalk : public std::enable_shared_from_this<ScanWalk> {
 public:
  static constexpr int kMaxPages = 16;

  ScanWalk(RedisContext* context, uint32_t partitions, ScanCursors::Position at,
           size_t count, std::string pattern, bool strings, Reply reply)
      : context_(context),
        partitions_(partitions),
        at_(std::move(at)),
        count_(count),
        pattern_(std::move(pattern)),
        prefix_(GlobLiteralPrefix(pattern_)),
        strings_(strings),
        reply_(std::move(reply)) {}

  void Next() {
    ScanRequest page;
    page.set_partition(at_.partition);
    page.set_start_after(at_.start_after);
    page.set_prefix(prefix_);
    page.set_limit(static_cast<uint32_t>(std::clamp<size_t>(count_, 10, 1000)));
    page.set_keys_only(true);
    auto self = shared_from_this();
    context_->gateway->Call(std::move(page), [self](absl::StatusOr<ScanResponse> done) {
      self->OnPage(std::move(done));
    });
  }

 private:
  void OnPage(absl::StatusOr<ScanResponse> done) {
    if (!done.ok()) return reply_(redis::StatusReply(done.status()));
    for (const ScannedKey& item : done->items()) {
      if (strings_ && GlobMatch(pattern_, item.key())) keys_.push_back(item.key());
    }
    ++pages_;
    if (done->done()) {
      at_.partition += 1;
      at_.start_after.clear();
    } else {
      at_.start_after = done->resume_after();
    }
    const bool finished = at_.partition >= partitions_;
    if (!finished && keys_.size() < count_ && pages_ < kMaxPages) return Next();
    const uint64_t cursor =
        finished ? 0
                 : context_->cursors->Make(at_.partition, std::move(at_.start_after));
    std::string out = RespReply::ArrayHeader(2);
    out += RespReply::Bulk(absl::StrCat(cursor));
    out += RespReply::BulkArray(keys_);
    reply_(std::move(out));
  }

  RedisContext* const context_;
  const uint32_t partitions_;
  ScanCursors::Position at_;
  const size_t count_;
  const std::string pattern_;
  const std::string prefix_;
  const bool strings_;  // TYPE string (or no TYPE): every key is a string
  const Reply reply_;
  std::vector<std::string> keys_;
  int pages_ = 0;
};

}  // namespace

void RedisScan(RedisCall call) {
  uint64_t cursor = 0;
  if (!absl::SimpleAtoi(call.args[1], &cursor)) {
    return call.reply(RespReply::Error("ERR invalid cursor"));
  }
  std::string pattern = "*";
  size_t count = 10;
  bool strings = true;
  for (size_t i = 2; i < call.args.size(); i += 2) {
    const std::string option = absl::AsciiStrToUpper(call.args[i]);
    if (i + 1 >= call.args.size()) {
      return call.reply(RespReply::Error(redis::kSyntaxError));
    }
    if (option == "MATCH") {
      pattern = call.args[i + 1];
    } else if (option == "COUNT") {
      std::optional<int64_t> n = redis::ParseInteger(call.args[i + 1]);
      if (!n) return call.reply(RespReply::Error(redis::kNotInteger));
      if (*n < 1) return call.reply(RespReply::Error(redis::kSyntaxError));
      count = static_cast<size_t>(std::min<int64_t>(*n, 1000));
    } else if (option == "TYPE") {
      strings = absl::AsciiStrToLower(call.args[i + 1]) == "string";
    } else {
      return call.reply(RespReply::Error(redis::kSyntaxError));
    }
  }
  DirectoryPtr directory = call.context->gateway->directory();
  if (!directory->formed()) {
    return call.reply(RespReply::Error("CLUSTERDOWN The cluster is not formed yet"));
  }
  std::optional<ScanCursors::Position> at =
      call.context->cursors->Resolve(cursor, directory->partitions());
  if (!at) return call.reply(RespReply::Error("ERR invalid cursor"));
  std::make_shared<ScanWalk>(call.context, directory->partitions(), *std::move(at),
                             count, std::move(pattern), strings,
                             std::move(call.reply))
      ->Next();
}

}  // namespace quorumkv
