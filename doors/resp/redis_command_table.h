// The Redis commands the RESP door serves: their names, arities, key
// positions and COMMAND facts (what cluster-aware clients read to find a
// command's keys), and the handler of each. Handlers live by family:
// doors/resp/redis_server_commands.cc (connection and server),
// redis_string_commands.cc, redis_key_commands.cc (keys, expiry, SCAN),
// redis_cluster_commands.cc.
#ifndef QUORUMKV_DOORS_RESP_REDIS_COMMAND_TABLE_H_
#define QUORUMKV_DOORS_RESP_REDIS_COMMAND_TABLE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "doors/door_connection.h"
#include "doors/resp/resp_reply.h"

namespace quorumkv {

struct RedisContext;
class RedisSession;

// One command as a handler gets it.
struct RedisCall {
  std::vector<std::string> args;  // args[0]: the command as sent
  RespReply out;                  // the protocol the reply is written in
  RedisContext* context = nullptr;
  // Loop thread only: a handler may touch them before it returns, never
  // from a callback.
  RedisSession* session = nullptr;
  DoorConnection* connection = nullptr;
  Reply reply;                    // call once with the whole reply
};

using RedisHandler = void (*)(RedisCall call);

struct RedisCommand {
  const char* name;     // lower case
  int arity;            // Redis's: n exactly, -n at least n (name included)
  const char* flags;    // COMMAND's flags, space-separated
  int first_key;        // Redis's key positions; 0: no keys
  int last_key;         // -1: the last argument
  int step;
  const char* group;    // COMMAND DOCS
  const char* summary;
  const char* since;
  RedisHandler handler;
  bool barrier = false;  // waits for every earlier command (SCAN)
  bool no_auth = false;  // served before AUTH (AUTH, HELLO, QUIT)
};

const std::vector<RedisCommand>& RedisCommands();
// Case-insensitive; nullptr when unknown.
const RedisCommand* FindRedisCommand(absl::string_view name);
// The keys of `args` by the command's key positions.
std::vector<std::string> CommandKeys(const RedisCommand& command,
                                     const std::vector<std::string>& args);
// COMMAND INFO's entry for a command (Redis 7's ten fields).
std::string CommandInfoReply(const RedisCommand& command);

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_RESP_REDIS_COMMAND_TABLE_H_
