#include "doors/resp/redis_command_table.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "doors/resp/redis_handlers.h"

namespace quorumkv {
namespace {

std::vector<RedisCommand> MakeTable() {
  // name, arity, flags, first, last, step, group, summary, since, handler
  std::vector<RedisCommand> t = {
      // Connection and server.
      {"ping", -1, "fast", 0, 0, 0, "connection", "Returns the server's liveliness response.", "1.0.0", &RedisPing},
      {"echo", 2, "fast", 0, 0, 0, "connection", "Returns the given string.", "1.0.0", &RedisEcho},
      {"hello", -1, "noscript loading stale fast no_auth", 0, 0, 0, "connection", "Handshakes with the server: protocol version, AUTH, name.", "6.0.0", &RedisHello},
      {"auth", -2, "noscript loading stale fast no_auth", 0, 0, 0, "connection", "Authenticates the connection with a QuorumKV data token.", "1.0.0", &RedisAuth},
      {"select", 2, "loading stale fast", 0, 0, 0, "connection", "Selects database 0, the only one.", "1.0.0", &RedisSelect},
      {"quit", -1, "noscript loading stale fast no_auth", 0, 0, 0, "connection", "Closes the connection.", "1.0.0", &RedisQuit},
      {"client", -2, "loading stale", 0, 0, 0, "connection", "SETNAME, GETNAME, ID, SETINFO.", "2.4.0", &RedisClient},
      {"command", -1, "loading stale", 0, 0, 0, "server", "Returns detailed information about the commands.", "2.8.13", &RedisCommandCommand},
      {"config", -2, "loading stale", 0, 0, 0, "server", "CONFIG GET of the few parameters clients ask for.", "2.0.0", &RedisConfig},
      {"info", -1, "loading stale", 0, 0, 0, "server", "Returns information about the node.", "1.0.0", &RedisInfo},
      {"dbsize", 1, "readonly fast", 0, 0, 0, "server", "Returns the number of keys this node holds.", "1.0.0", &RedisDbsize},
      {"time", 1, "loading stale fast", 0, 0, 0, "server", "Returns the node's time.", "2.6.0", &RedisTime},
      {"readonly", 1, "loading stale fast", 0, 0, 0, "cluster", "Accepted; every node serves reads.", "3.0.0", &RedisNoop},
      {"readwrite", 1, "loading stale fast", 0, 0, 0, "cluster", "Accepted; every node serves writes.", "3.0.0", &RedisNoop},
      {"asking", 1, "fast", 0, 0, 0, "cluster", "Accepted; QuorumKV never redirects.", "3.0.0", &RedisNoop},
      {"cluster", -2, "", 0, 0, 0, "cluster", "The directory as Redis Cluster's slot map.", "3.0.0", &RedisCluster},
      // Strings.
      {"get", 2, "readonly fast", 1, 1, 1, "string", "Returns the value of a key.", "1.0.0", &RedisGet},
      {"set", -3, "write denyoom", 1, 1, 1, "string", "Sets the value of a key, with NX/XX/GET/expiry options.", "1.0.0", &RedisSet},
      {"setnx", 3, "write denyoom fast", 1, 1, 1, "string", "Sets the value of a key only when it does not exist.", "1.0.0", &RedisSetnx},
      {"setex", 4, "write denyoom", 1, 1, 1, "string", "Sets the value and expiry in seconds of a key.", "2.0.0", &RedisSetex},
      {"psetex", 4, "write denyoom", 1, 1, 1, "string", "Sets the value and expiry in milliseconds of a key.", "2.6.0", &RedisPsetex},
      {"getset", 3, "write denyoom fast", 1, 1, 1, "string", "Sets a key's value and returns the previous one.", "1.0.0", &RedisGetset},
      {"getdel", 2, "write fast", 1, 1, 1, "string", "Returns a key's value and deletes the key.", "6.2.0", &RedisGetdel},
      {"getex", -2, "write fast", 1, 1, 1, "string", "Returns a key's value and sets or clears its expiry.", "6.2.0", &RedisGetex},
      {"mget", -2, "readonly fast", 1, -1, 1, "string", "Returns the values of keys.", "1.0.0", &RedisMget},
      {"mset", -3, "write denyoom", 1, -1, 2, "string", "Sets the values of keys (each key atomically, not all together).", "1.0.1", &RedisMset},
      {"strlen", 2, "readonly fast", 1, 1, 1, "string", "Returns the length of a key's value.", "2.2.0", &RedisStrlen},
      {"append", 3, "write denyoom fast", 1, 1, 1, "string", "Appends to a key's value.", "2.0.0", &RedisAppend},
      {"incr", 2, "write denyoom fast", 1, 1, 1, "string", "Increments a key's integer value by one.", "1.0.0", &RedisIncr},
      {"decr", 2, "write denyoom fast", 1, 1, 1, "string", "Decrements a key's integer value by one.", "1.0.0", &RedisDecr},
      {"incrby", 3, "write denyoom fast", 1, 1, 1, "string", "Increments a key's integer value.", "1.0.0", &RedisIncrby},
      {"decrby", 3, "write denyoom fast", 1, 1, 1, "string", "Decrements a key's integer value.", "1.0.0", &RedisDecrby},
      // Keys and expiry.
      {"del", -2, "write", 1, -1, 1, "generic", "Deletes keys.", "1.0.0", &RedisDel},
      {"unlink", -2, "write fast", 1, -1, 1, "generic", "Deletes keys.", "4.0.0", &RedisDel},
      {"exists", -2, "readonly fast", 1, -1, 1, "generic", "Counts the given keys that exist.", "1.0.0", &RedisExists},
      {"type", 2, "readonly fast", 1, 1, 1, "generic", "Returns a key's type: string or none.", "1.0.0", &RedisType},
      {"expire", -3, "write fast", 1, 1, 1, "generic", "Sets a key's time to live in seconds.", "1.0.0", &RedisExpire},
      {"pexpire", -3, "write fast", 1, 1, 1, "generic", "Sets a key's time to live in milliseconds.", "2.6.0", &RedisPexpire},
      {"expireat", -3, "write fast", 1, 1, 1, "generic", "Sets a key's expiry as a Unix time in seconds.", "1.2.0", &RedisExpireat},
      {"pexpireat", -3, "write fast", 1, 1, 1, "generic", "Sets a key's expiry as a Unix time in milliseconds.", "2.6.0", &RedisPexpireat},
      {"ttl", 2, "readonly fast", 1, 1, 1, "generic", "Returns a key's time to live in seconds.", "1.0.0", &RedisTtl},
      {"pttl", 2, "readonly fast", 1, 1, 1, "generic", "Returns a key's time to live in milliseconds.", "2.6.0", &RedisPttl},
      {"persist", 2, "write fast", 1, 1, 1, "generic", "Removes a key's expiry.", "2.2.0", &RedisPersist},
      {"scan", -2, "readonly", 0, 0, 0, "generic", "Iterates over the cluster's keys.", "2.8.0", &RedisScan},
  };
  for (RedisCommand& c : t) {
    const absl::string_view name = c.name;
    c.barrier = name == "scan";
    c.no_auth = name == "auth" || name == "hello" || name == "quit";
  }
  return t;
}

}  // namespace

const std::vector<RedisCommand>& RedisCommands() {
  static const std::vector<RedisCommand>* const table =
      new std::vector<RedisCommand>(MakeTable());
  return *table;
}

const RedisCommand* FindRedisCommand(absl::string_view name) {
  static const auto* const by_name = [] {
    auto* map = new absl::flat_hash_map<std::string, const RedisCommand*>();
    for (const RedisCommand& c : RedisCommands()) (*map)[c.name] = &c;
    return map;
  }();
  if (name.size() > 16) return nullptr;
  auto found = by_name->find(absl::AsciiStrToLower(name));
  return found == by_name->end() ? nullptr : found->second;
}

std::vector<std::string> CommandKeys(const RedisCommand& command,
                                     const std::vector<std::string>& args) {
  std::vector<std::string> keys;
  if (command.first_key <= 0) return keys;
  const int last = command.last_key < 0
                       ? static_cast<int>(args.size()) + command.last_key
                       : command.last_key;
  for (int i = command.first_key; i <= last && i < static_cast<int>(args.size());
       i += command.step) {
    keys.push_back(args[i]);
  }
  return keys;
}

std::string CommandInfoReply(const RedisCommand& command) {
  std::vector<absl::string_view> flags =
      absl::StrSplit(command.flags, ' ', absl::SkipEmpty());
  std::string reply = RespReply::ArrayHeader(10);
  reply += RespReply::Bulk(command.name);
  reply += RespReply::Integer(command.arity);
  reply += RespReply::ArrayHeader(flags.size());
  for (absl::string_view flag : flags) reply += RespReply::Simple(flag);
  reply += RespReply::Integer(command.first_key);
  reply += RespReply::Integer(command.last_key);
  reply += RespReply::Integer(command.step);
  reply += RespReply::ArrayHeader(1);
  reply += RespReply::Simple(absl::StrCat("@", command.group));
  reply += RespReply::ArrayHeader(0);  // tips
  reply += RespReply::ArrayHeader(0);  // key specifications
  reply += RespReply::ArrayHeader(0);  // subcommands
  return reply;
}

}  // namespace quorumkv
