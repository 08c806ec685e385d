// Redis's connection and server commands, answered by the door itself
// (no request to the cluster): PING, ECHO, HELLO, AUTH, SELECT, QUIT,
// CLIENT, COMMAND, CONFIG GET, INFO, DBSIZE, TIME; and what every handler
// shares (namespace redis).
#include <unistd.h>

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/limits.h"
#include "common/rpc_status.h"
#include "common/version.h"
#include "doors/client_flags.h"
#include "doors/resp/glob.h"
#include "doors/resp/redis_handlers.h"
#include "doors/kv_gateway.h"
#include "doors/resp/redis_session.h"

namespace quorumkv {

namespace redis {

std::optional<int64_t> ParseInteger(absl::string_view text) {
  int64_t value = 0;
  // Redis refuses blanks, a '+' and leading zeros; SimpleAtoi takes some.
  if (text.empty() || text.size() > 20 || absl::ascii_isspace(text.front()) ||
      absl::ascii_isspace(text.back()) || text.front() == '+' ||
      (text.size() > 1 && text[0] == '0') ||
      (text.size() > 2 && text[0] == '-' && text[1] == '0') ||
      !absl::SimpleAtoi(text, &value)) {
    return std::nullopt;
  }
  return value;
}

std::string StatusReply(const absl::Status& status) {
  if (GetQuorumNotReached(status)) {
    return RespReply::Error(absl::StrCat("TRYAGAIN ", status.message()));
  }
  if (absl::IsUnavailable(status) &&
      absl::StrContains(status.message(), "not formed")) {
    return RespReply::Error(absl::StrCat("CLUSTERDOWN ", status.message()));
  }
  return RespReply::Error(absl::StrCat("ERR ", status.message()));
}

absl::string_view Visible(absl::string_view stored) {
  return SplitClientFlags(stored).value;
}

int64_t MillisUntil(int64_t unix_ms) {
  return unix_ms - absl::ToUnixMillis(absl::Now());
}

void ReadKey(RedisCall call, std::string missing,
             std::function<std::string(const GetResponse&)> found) {
  GetRequest get;
  get.set_key(call.args[1]);
  call.context->gateway->Call(
      std::move(get),
      [missing = std::move(missing), found = std::move(found),
       reply = std::move(call.reply)](absl::StatusOr<GetResponse> done) {
        if (absl::IsNotFound(done.status())) return reply(missing);
        if (!done.ok()) return reply(StatusReply(done.status()));
        reply(found(*done));
      });
}

}  // namespace redis

namespace {

constexpr absl::string_view kRedisVersion = "7.0.0";

std::string UnknownSubcommand(absl::string_view sub, absl::string_view command) {
  return RespReply::Error(absl::StrCat("ERR unknown subcommand '", sub,
                                       "'. Try ", command, " HELP."));
}

bool ClusterMode(const RedisContext& context) {
  return context.gateway->directory()->proto().key_hash() ==
         KEY_HASH_REDIS_SLOTS;
}

// A token check for AUTH and HELLO AUTH.
bool TokenAccepted(const RedisContext& context, absl::string_view token) {
  return context.tokens != nullptr &&
         context.tokens->Check(token, Role::kData).ok();
}

constexpr absl::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";

}  // namespace

void RedisPing(RedisCall call) {
  if (call.args.size() > 2) {
    return call.reply(RespReply::Error("ERR wrong number of arguments for 'ping' command"));
  }
  call.reply(call.args.size() == 2 ? RespReply::Bulk(call.args[1])
                                   : RespReply::Simple("PONG"));
}

void RedisEcho(RedisCall call) { call.reply(RespReply::Bulk(call.args[1])); }

void RedisHello(RedisCall call) {
  RedisSession* session = call.session;
  int protocol = session->protocol();
  size_t i = 1;
  if (call.args.size() > 1) {
    std::optional<int64_t> version = redis::ParseInteger(call.args[1]);
    if (!version) {
      return call.reply(RespReply::Error(
          "ERR Protocol version is not an integer or out of range"));
    }
    if (*version != 2 && *version != 3) {
      return call.reply(RespReply::Error("NOPROTO unsupported protocol version"));
    }
    protocol = static_cast<int>(*version);
    i = 2;
  }
  std::string name;
  bool set_name = false;
  for (; i < call.args.size(); ++i) {
    const std::string option = absl::AsciiStrToUpper(call.args[i]);
    if (option == "AUTH" && i + 2 < call.args.size()) {
      if (!TokenAccepted(*call.context, call.args[i + 2])) {
        return call.reply(RespReply::Error(kWrongPass));
      }
      session->set_authenticated();
      i += 2;
    } else if (option == "SETNAME" && i + 1 < call.args.size()) {
      name = call.args[++i];
      set_name = true;
    } else {
      return call.reply(RespReply::Error(
          absl::StrCat("ERR Syntax error in HELLO option '", call.args[i], "'")));
    }
  }
  if (!session->authenticated()) {
    return call.reply(RespReply::Error(
        "NOAUTH HELLO must be called with the client already authenticated, "
        "otherwise the HELLO <proto> AUTH <user> <pass> option can be used "
        "to authenticate the client and select the RESP protocol version at "
        "the same time"));
  }
  if (set_name) session->set_name(name);
  session->set_protocol(protocol);
  const RespReply out(protocol);
  std::string reply = out.MapHeader(7);
  reply += RespReply::Bulk("server") + RespReply::Bulk("redis");
  reply += RespReply::Bulk("version") + RespReply::Bulk(kRedisVersion);
  reply += RespReply::Bulk("proto") + RespReply::Integer(protocol);
  reply += RespReply::Bulk("id") +
           RespReply::Integer(static_cast<int64_t>(call.connection->id()));
  reply += RespReply::Bulk("mode") +
           RespReply::Bulk(ClusterMode(*call.context) ? "cluster" : "standalone");
  reply += RespReply::Bulk("role") + RespReply::Bulk("master");
  reply += RespReply::Bulk("modules") + RespReply::ArrayHeader(0);
  call.reply(std::move(reply));
}

void RedisAuth(RedisCall call) {
  if (call.args.size() > 3) return call.reply(RespReply::Error(redis::kSyntaxError));
  if (call.context->tokens == nullptr) {
    return call.reply(RespReply::Error(
        "ERR AUTH <password> called without any password configured for the "
        "default user. Are you sure your configuration is correct?"));
  }
  if (!TokenAccepted(*call.context, call.args.back())) {
    return call.reply(RespReply::Error(kWrongPass));
  }
  call.session->set_authenticated();
  call.reply(RespReply::Ok());
}

void RedisSelect(RedisCall call) {
  std::optional<int64_t> db = redis::ParseInteger(call.args[1]);
  if (!db) return call.reply(RespReply::Error(redis::kNotInteger));
  call.reply(*db == 0 ? RespReply::Ok()
                      : RespReply::Error("ERR DB index is out of range"));
}

void RedisQuit(RedisCall call) {
  call.reply(RespReply::Ok());
  call.connection->CloseAfterReplies();
}

void RedisNoop(RedisCall call) { call.reply(RespReply::Ok()); }

void RedisClient(RedisCall call) {
  const std::string sub = absl::AsciiStrToUpper(call.args[1]);
  const size_t n = call.args.size();
  if (sub == "SETNAME" && n == 3) {
    for (char c : call.args[2]) {
      if (c < '!' || c > '~') {
        return call.reply(RespReply::Error(
            "ERR Client names cannot contain spaces, newlines or special "
            "characters."));
      }
    }
    call.session->set_name(call.args[2]);
    return call.reply(RespReply::Ok());
  }
  if (sub == "GETNAME" && n == 2) {
    const std::string& name = call.session->name();
    return call.reply(name.empty() ? call.out.Null() : RespReply::Bulk(name));
  }
  if (sub == "ID" && n == 2) {
    return call.reply(
        RespReply::Integer(static_cast<int64_t>(call.connection->id())));
  }
  if (sub == "SETINFO" && n == 4) {
    const std::string attribute = absl::AsciiStrToUpper(call.args[2]);
    if (attribute != "LIB-NAME" && attribute != "LIB-VER") {
      return call.reply(RespReply::Error(
          absl::StrCat("ERR Unrecognized option '", call.args[2], "'")));
    }
    return call.reply(RespReply::Ok());
  }
  if (sub == "SETNAME" || sub == "GETNAME" || sub == "ID" || sub == "SETINFO") {
    return call.reply(RespReply::Error(absl::StrCat(
        "ERR wrong number of arguments for 'client|",
        absl::AsciiStrToLower(sub), "' command")));
  }
  call.reply(UnknownSubcommand(call.args[1], "CLIENT"));
}

void RedisCommandCommand(RedisCall call) {
  const std::vector<RedisCommand>& table = RedisCommands();
  if (call.args.size() == 1) {
    std::string reply = RespReply::ArrayHeader(table.size());
    for (const RedisCommand& c : table) reply += CommandInfoReply(c);
    return call.reply(std::move(reply));
  }
  const std::string sub = absl::AsciiStrToUpper(call.args[1]);
  if (sub == "COUNT" && call.args.size() == 2) {
    return call.reply(RespReply::Integer(static_cast<int64_t>(table.size())));
  }
  if (sub == "INFO") {
    std::vector<const RedisCommand*> asked;
    if (call.args.size() == 2) {
      for (const RedisCommand& c : table) asked.push_back(&c);
    } else {
      for (size_t i = 2; i < call.args.size(); ++i) {
        asked.push_back(FindRedisCommand(call.args[i]));
      }
    }
    std::string reply = RespReply::ArrayHeader(asked.size());
    for (const RedisCommand* c : asked) {
      reply += c != nullptr ? CommandInfoReply(*c) : call.out.NullArray();
    }
    return call.reply(std::move(reply));
  }
  if (sub == "DOCS") {
    std::vector<const RedisCommand*> asked;
    if (call.args.size() == 2) {
      for (const RedisCommand& c : table) asked.push_back(&c);
    } else {
      for (size_t i = 2; i < call.args.size(); ++i) {
        if (const RedisCommand* c = FindRedisCommand(call.args[i])) {
          asked.push_back(c);
        }
      }
    }
    std::string reply = call.out.MapHeader(asked.size());
    for (const RedisCommand* c : asked) {
      reply += RespReply::Bulk(c->name);
      reply += call.out.MapHeader(3);
      reply += RespReply::Bulk("summary") + RespReply::Bulk(c->summary);
      reply += RespReply::Bulk("since") + RespReply::Bulk(c->since);
      reply += RespReply::Bulk("group") + RespReply::Bulk(c->group);
    }
    return call.reply(std::move(reply));
  }
  if (sub == "GETKEYS" && call.args.size() >= 3) {
    const RedisCommand* c = FindRedisCommand(call.args[2]);
    if (c == nullptr) {
      return call.reply(RespReply::Error("ERR Invalid command specified"));
    }
    std::vector<std::string> args(call.args.begin() + 2, call.args.end());
    const int given = static_cast<int>(args.size());
    if ((c->arity > 0 && given != c->arity) || (c->arity < 0 && given < -c->arity)) {
      return call.reply(RespReply::Error("ERR Invalid number of arguments specified for command"));
    }
    std::vector<std::string> keys = CommandKeys(*c, args);
    if (keys.empty()) {
      return call.reply(RespReply::Error("ERR The command has no key arguments"));
    }
    return call.reply(RespReply::BulkArray(keys));
  }
  call.reply(UnknownSubcommand(call.args[1], "COMMAND"));
}

void RedisConfig(RedisCall call) {
  const std::string sub = absl::AsciiStrToUpper(call.args[1]);
  if (sub == "GET" && call.args.size() >= 3) {
    // What clients and redis-benchmark ask for; QuorumKV's own settings
    // are its flags (kv_storage_node --help).
    static const std::vector<std::pair<std::string, std::string>> kKnown = {
        {"save", ""},          {"appendonly", "no"},
        {"databases", "1"},    {"maxmemory", "0"},
        {"cluster-enabled", "yes"},
        {"proto-max-bulk-len", absl::StrCat(kMaxValueBytes)},
    };
    std::vector<std::pair<std::string, std::string>> found;
    for (const auto& [name, value] : kKnown) {
      for (size_t i = 2; i < call.args.size(); ++i) {
        if (GlobMatch(absl::AsciiStrToLower(call.args[i]), name)) {
          found.emplace_back(name, value);
          break;
        }
      }
    }
    std::string reply = call.out.MapHeader(found.size());
    for (const auto& [name, value] : found) {
      reply += RespReply::Bulk(name) + RespReply::Bulk(value);
    }
    return call.reply(std::move(reply));
  }
  if (sub == "SET" || sub == "RESETSTAT" || sub == "REWRITE") {
    return call.reply(RespReply::Error(absl::StrCat(
        "ERR CONFIG ", sub,
        " is not supported: QuorumKV nodes are configured by their flags")));
  }
  call.reply(UnknownSubcommand(call.args[1], "CONFIG"));
}

void RedisInfo(RedisCall call) {
  const RedisContext& context = *call.context;
  const absl::Duration up = absl::Now() - context.started;
  const uint64_t keys = context.local_keys ? context.local_keys() : 0;
  const std::string text = absl::StrCat(
      "# Server\r\n", "redis_version:", kRedisVersion, "\r\n",
      "quorumkv_version:", ProjectVersion(), "\r\n",
      "redis_mode:", ClusterMode(context) ? "cluster" : "standalone", "\r\n",
      "process_id:", getpid(), "\r\n", "tcp_port:", context.port, "\r\n",
      "uptime_in_seconds:", absl::ToInt64Seconds(up), "\r\n",
      "\r\n# Replication\r\nrole:master\r\n",
      "\r\n# Cluster\r\ncluster_enabled:", ClusterMode(context) ? 1 : 0, "\r\n",
      "\r\n# Keyspace\r\n",
      keys > 0 ? absl::StrCat("db0:keys=", keys, ",expires=0,avg_ttl=0\r\n") : "");
  call.reply(RespReply::Bulk(text));
}

void RedisDbsize(RedisCall call) {
  const RedisContext& context = *call.context;
  call.reply(RespReply::Integer(
      static_cast<int64_t>(context.local_keys ? context.local_keys() : 0)));
}

void RedisTime(RedisCall call) {
  const int64_t us = absl::ToUnixMicros(absl::Now());
  call.reply(RespReply::BulkArray(
      {absl::StrCat(us / 1000000), absl::StrCat(us % 1000000)}));
}

}  // namespace quorumkv
