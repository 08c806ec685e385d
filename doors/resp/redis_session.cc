#include "doors/resp/redis_session.h"

#include <event2/buffer.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "doors/resp/redis_command_table.h"
#include "doors/resp/resp_parser.h"
#include "doors/resp/resp_reply.h"

namespace quorumkv {
namespace {

// Redis 7.0's text, arguments cut at 128 bytes each.
std::string UnknownCommand(const std::vector<std::string>& args) {
  std::string message = absl::StrCat(
      "ERR unknown command '", absl::string_view(args[0]).substr(0, 128),
      "', with args beginning with: ");
  for (size_t i = 1; i < args.size(); ++i) {
    absl::StrAppend(&message, "'", absl::string_view(args[i]).substr(0, 128),
                    "' ");
  }
  return RespReply::Error(message);
}

}  // namespace

void RedisSession::OnInput(evbuffer* input, DoorConnection& connection) {
  std::vector<std::string> args;
  while (!connection.Full()) {
    const size_t length = evbuffer_get_length(input);
    if (length == 0 || length < need_) return;
    const auto* data =
        reinterpret_cast<const char*>(evbuffer_pullup(input, -1));
    const absl::string_view bytes(data, length);
    size_t consumed = 0;
    bool stop = false;
    while (!stop && !connection.Full()) {
      RespParse parsed = ParseRespCommand(bytes.substr(consumed), &args);
      switch (parsed.kind) {
        case RespParse::kNeedMore:
          // Counted from where the unparsed bytes will start.
          need_ = std::max(parsed.bytes, length - consumed + 1);
          stop = true;
          break;
        case RespParse::kError:
          // Redis answers a protocol error and closes the connection.
          if (context_->metrics != nullptr) {
            context_->metrics->Count("redis", "protocol_error", false);
          }
          connection.Answer(RespReply::Error(absl::StrCat("ERR ", parsed.error)));
          connection.CloseAfterReplies();
          evbuffer_drain(input, length);
          return;
        case RespParse::kCommand:
          consumed += parsed.bytes;
          need_ = 0;
          if (!args.empty()) Dispatch(std::move(args), connection);
          args = {};
          if (consumed == length) stop = true;
          break;
      }
    }
    evbuffer_drain(input, consumed);
    if (stop && consumed == 0) return;
    if (need_ > 0) return;
  }
}

void RedisSession::Dispatch(std::vector<std::string> args,
                            DoorConnection& connection) {
  DoorMetrics* metrics = context_->metrics;
  const RedisCommand* command = FindRedisCommand(args[0]);
  auto refuse = [&](absl::string_view counted, std::string reply) {
    if (metrics != nullptr) metrics->Count("redis", counted, false);
    connection.Answer(std::move(reply));
  };
  if (command == nullptr) return refuse("unknown", UnknownCommand(args));
  const int given = static_cast<int>(args.size());
  if ((command->arity > 0 && given != command->arity) ||
      (command->arity < 0 && given < -command->arity)) {
    return refuse(command->name,
                  RespReply::Error(absl::StrCat(
                      "ERR wrong number of arguments for '",
                      absl::AsciiStrToLower(args[0]), "' command")));
  }
  std::vector<std::string> keys = CommandKeys(*command, args);
  for (const std::string& key : keys) {
    if (key.empty() || key.size() > kMaxKeyBytes) {
      return refuse(command->name,
                    RespReply::Error(absl::StrCat(
                        "ERR key of ", key.size(),
                        " bytes: QuorumKV keys are 1 to ", kMaxKeyBytes,
                        " bytes")));
    }
  }
  Reply counted = [metrics, name = command->name](std::string bytes) {
    // Replies that are errors start with '-' (RESP2 and RESP3 alike).
    if (metrics != nullptr) {
      metrics->Count("redis", name, bytes.empty() || bytes[0] != '-');
    }
  };
  DoorConnection* conn = &connection;
  connection.Submit(
      std::move(keys), command->barrier,
      [this, conn, command, args = std::move(args),
       counted = std::move(counted)](Reply reply) mutable {
        Reply answer = [counted = std::move(counted),
                        reply = std::move(reply)](std::string bytes) {
          counted(bytes);
          reply(std::move(bytes));
        };
        // The connection's state as of this command's turn: an earlier
        // HELLO or AUTH has run by now.
        if (!command->no_auth && !authenticated()) {
          return answer(RespReply::Error("NOAUTH Authentication required."));
        }
        RedisCall call{std::move(args), RespReply(protocol_), context_, this,
                       conn, std::move(answer)};
        command->handler(std::move(call));
      });
}

}  // namespace quorumkv
