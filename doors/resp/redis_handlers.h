// The handlers of the Redis command table (doors/resp/redis_command_table.h)
// and what they share. Each takes its RedisCall by value and calls its
// reply once, now or from a gateway callback.
#ifndef QUORUMKV_DOORS_RESP_REDIS_HANDLERS_H_
#define QUORUMKV_DOORS_RESP_REDIS_HANDLERS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "doors/resp/redis_command_table.h"
#include "proto/kv.pb.h"

namespace quorumkv {

// Shared by the handlers.
namespace redis {

// `text` as Redis reads an integer argument; nullopt when it is not one.
std::optional<int64_t> ParseInteger(absl::string_view text);
inline constexpr absl::string_view kNotInteger =
    "ERR value is not an integer or out of range";
inline constexpr absl::string_view kSyntaxError = "ERR syntax error";
// The error reply for a failed request: Redis's codes where one fits
// (TRYAGAIN when a quorum could not be reached, CLUSTERDOWN before the
// cluster has formed), "ERR message" otherwise.
std::string StatusReply(const absl::Status& status);
// What a stored value looks like to a Redis client: memcached's client
// flags envelope left out (doors/client_flags.h).
absl::string_view Visible(absl::string_view stored);
// Milliseconds from now to `unix_ms` (EXAT/PXAT/EXPIREAT).
int64_t MillisUntil(int64_t unix_ms);
// Reads args[1] and replies `missing` when it has no value, what `found`
// makes of its row otherwise, or the error (GET, TYPE, STRLEN, TTL...).
void ReadKey(RedisCall call, std::string missing,
             std::function<std::string(const GetResponse&)> found);

}  // namespace redis

// Connection and server: doors/resp/redis_server_commands.cc.
void RedisPing(RedisCall call);
void RedisEcho(RedisCall call);
void RedisHello(RedisCall call);
void RedisAuth(RedisCall call);
void RedisSelect(RedisCall call);
void RedisQuit(RedisCall call);
void RedisClient(RedisCall call);
void RedisCommandCommand(RedisCall call);
void RedisConfig(RedisCall call);
void RedisInfo(RedisCall call);
void RedisDbsize(RedisCall call);
void RedisTime(RedisCall call);
void RedisNoop(RedisCall call);  // READONLY, READWRITE, ASKING

// Strings: doors/resp/redis_string_commands.cc.
void RedisGet(RedisCall call);
void RedisSet(RedisCall call);
void RedisSetnx(RedisCall call);
void RedisSetex(RedisCall call);
void RedisPsetex(RedisCall call);
void RedisGetset(RedisCall call);
void RedisGetdel(RedisCall call);
void RedisGetex(RedisCall call);
void RedisMget(RedisCall call);
void RedisMset(RedisCall call);
void RedisStrlen(RedisCall call);
void RedisAppend(RedisCall call);
void RedisIncr(RedisCall call);
void RedisDecr(RedisCall call);
void RedisIncrby(RedisCall call);
void RedisDecrby(RedisCall call);

// Keys and expiry: doors/resp/redis_key_commands.cc.
void RedisDel(RedisCall call);
void RedisExists(RedisCall call);
void RedisType(RedisCall call);
void RedisExpire(RedisCall call);
void RedisPexpire(RedisCall call);
void RedisExpireat(RedisCall call);
void RedisPexpireat(RedisCall call);
void RedisTtl(RedisCall call);
void RedisPttl(RedisCall call);
void RedisPersist(RedisCall call);
void RedisScan(RedisCall call);

// CLUSTER: doors/resp/redis_cluster_commands.cc.
void RedisCluster(RedisCall call);

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_RESP_REDIS_HANDLERS_H_
