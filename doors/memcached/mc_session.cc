#include "doors/memcached/mc_session.h"

#include <event2/buffer.h>

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/version.h"

namespace quorumkv {
namespace {

constexpr absl::string_view kDoor = "memcached";

bool IsErrorReply(absl::string_view reply) {
  return absl::StartsWith(reply, "ERROR") ||
         absl::StartsWith(reply, "CLIENT_ERROR") ||
         absl::StartsWith(reply, "SERVER_ERROR");
}

// Where the first "\n" at or after `from` is in `input`, without copying
// it into one piece; -1 when there is none.
ptrdiff_t FindLineEnd(evbuffer* input, size_t from) {
  evbuffer_ptr start;
  if (evbuffer_ptr_set(input, &start, from, EVBUFFER_PTR_SET) != 0) return -1;
  return evbuffer_search(input, "\n", 1, &start).pos;
}

// Runs a request that reads or writes keys.
void Run(McEnv env, McRequest request, McDone done) {
  switch (request.command) {
    case McCommand::kGet:
    case McCommand::kGets:
    case McCommand::kGat:
    case McCommand::kGats:
      return McRetrieve(env, std::move(request), std::move(done));
    case McCommand::kSet:
    case McCommand::kAdd:
    case McCommand::kReplace:
    case McCommand::kAppend:
    case McCommand::kPrepend:
    case McCommand::kCas:
      return McStore(env, std::move(request), std::move(done));
    case McCommand::kDelete:
      return McDelete(env, std::move(request), std::move(done));
    case McCommand::kIncr:
    case McCommand::kDecr:
      return McArithmetic(env, std::move(request), std::move(done));
    case McCommand::kTouch:
      return McTouch(env, std::move(request), std::move(done));
    case McCommand::kMetaGet:
      return McMetaGet(env, std::move(request), std::move(done));
    case McCommand::kMetaSet:
      return McMetaSet(env, std::move(request), std::move(done));
    case McCommand::kMetaDelete:
      return McMetaDelete(env, std::move(request), std::move(done));
    case McCommand::kMetaArithmetic:
      return McMetaArithmetic(env, std::move(request), std::move(done));
    case McCommand::kFlushAll:
      return McFlushAll(env.gateway, std::move(done));
    default:
      // Answered in place by the session, never submitted.
      return done("ERROR\r\n");
  }
}

}  // namespace

std::string DefaultMcVersion() {
  return absl::StrCat("1.6.18-quorumkv-", ProjectVersion());
}

McSession::McSession(McContext* context) : context_(context) {
  context_->counters.curr_connections.fetch_add(1, std::memory_order_relaxed);
  context_->counters.total_connections.fetch_add(1, std::memory_order_relaxed);
}

McSession::~McSession() {
  context_->counters.curr_connections.fetch_sub(1, std::memory_order_relaxed);
}

void McSession::OnInput(evbuffer* input, DoorConnection& connection) {
  while (!stopped_ && !connection.Full()) {
    size_t length = evbuffer_get_length(input);
    if (swallow_ > 0) {
      const size_t dropped =
          static_cast<size_t>(std::min<uint64_t>(swallow_, length));
      evbuffer_drain(input, dropped);
      swallow_ -= dropped;
      length -= dropped;
      if (swallow_ > 0) return;
    }
    if (length == 0) return;
    // Only the front bytes the parser needs are made contiguous and
    // parsed, and only once they have all arrived: a large value arriving
    // in pieces is neither copied nor parsed again for each piece.
    size_t want = 0;
    if (need_ > 0 && !line_end_will_do_) {
      if (length < need_) return;
      want = need_;
    } else {
      const ptrdiff_t end = FindLineEnd(input, scanned_);
      if (end >= 0) {
        want = static_cast<size_t>(end) + 1;
      } else {
        scanned_ = length;
        // No complete line: worth parsing only once it is too long to be
        // one (the parser then refuses it, or allows a longer one).
        const size_t limit = need_ > 0 ? need_ : kMcMaxLineBytes + 1;
        if (length < limit) return;
        want = limit;
      }
    }
    const absl::string_view bytes(
        reinterpret_cast<const char*>(evbuffer_pullup(input, want)), want);
    McRequest request;
    const McParse parsed = ParseMcRequest(bytes, &request);
    if (parsed.kind == McParse::kNeedMore) {
      // Always more than was parsed, so that the loop moves on.
      need_ = std::max(parsed.need, want + 1);
      line_end_will_do_ = parsed.line_end_will_do;
      if (!line_end_will_do_) scanned_ = 0;
      continue;
    }
    evbuffer_drain(input, parsed.bytes);
    need_ = 0;
    line_end_will_do_ = false;
    scanned_ = 0;
    if (parsed.kind == McParse::kError) {
      OnError(parsed, connection);
      if (parsed.close) return Stop(input, connection);
      swallow_ = parsed.swallow;
      continue;
    }
    OnRequest(std::move(request), connection);
    if (stopped_) return Stop(input, connection);
  }
}

void McSession::OnError(const McParse& parsed, DoorConnection& connection) {
  std::string reply = parsed.reply;
  // Before authentication memcached answers every request alike; a line
  // too long still says why the connection closes.
  if (!parsed.close && context_->tokens != nullptr && !authenticated_) {
    reply = "CLIENT_ERROR unauthenticated\r\n";
  }
  Count(parsed.command, false);
  if (!reply.empty()) connection.Answer(std::move(reply));
}

void McSession::OnRequest(McRequest request, DoorConnection& connection) {
  const char* const name = McCommandName(request.command);
  if (context_->tokens != nullptr && !authenticated_) {
    if (request.command == McCommand::kSet) {
      return Authenticate(request, connection);
    }
    Count(name, false);
    return connection.Answer("CLIENT_ERROR unauthenticated\r\n");
  }
  // Requests that need no data, answered in their place.
  auto answer = [&](std::string reply, bool ok) {
    Count(name, ok);
    if (!reply.empty()) connection.Answer(std::move(reply));
  };
  switch (request.command) {
    case McCommand::kQuit:
      Count(name, true);
      stopped_ = true;
      return;
    case McCommand::kVersion:
      return answer(absl::StrCat("VERSION ", context_->version, "\r\n"), true);
    case McCommand::kVerbosity:
      // The door logs as its node does; the level is accepted and unused.
      return answer(request.noreply ? "" : "OK\r\n", true);
    case McCommand::kMetaNoop:
      return answer("MN\r\n", true);
    case McCommand::kStats: {
      std::string reply = McStats(&context_->counters, context_->version,
                                  context_->started, request.args);
      const bool ok = !IsErrorReply(reply);
      return answer(std::move(reply), ok);
    }
    case McCommand::kFlushAll:
      if (!context_->flush_all_enabled) {
        return answer(request.noreply
                          ? ""
                          : "CLIENT_ERROR flush_all is disabled on this node "
                            "(kv_storage_node --memcached_flush_all)\r\n",
                      false);
      }
      if (request.exptime > 0) {
        // A delayed flush would need the door to act later on its own.
        return answer(request.noreply
                          ? ""
                          : "CLIENT_ERROR flush_all with a delay is not "
                            "supported\r\n",
                      false);
      }
      break;
    default:
      break;
  }
  const McEnv env{context_->gateway, &context_->counters};
  DoorMetrics* const metrics = context_->metrics;
  const bool noreply = request.noreply;
  const bool barrier = request.command == McCommand::kFlushAll;
  // flush_all names no key: as a barrier it waits for every earlier
  // command, and every later one waits for it.
  std::vector<std::string> keys = barrier ? std::vector<std::string>()
                                          : request.keys;
  connection.Submit(
      std::move(keys), barrier,
      [env, metrics, name, noreply,
       request = std::move(request)](Reply reply) mutable {
        McDone done = [metrics, name, noreply,
                       reply = std::move(reply)](std::string bytes) {
          if (metrics != nullptr) {
            metrics->Count(kDoor, name, !IsErrorReply(bytes));
          }
          // noreply silences every reply, errors included, as in memcached.
          reply(noreply ? std::string() : std::move(bytes));
        };
        Run(env, std::move(request), std::move(done));
      });
}

void McSession::Authenticate(const McRequest& request,
                             DoorConnection& connection) {
  // memcached splits "<username> <token>" at spaces; the username is not
  // checked, and more words are ignored.
  const std::vector<absl::string_view> words =
      absl::StrSplit(request.data, ' ', absl::SkipEmpty());
  std::string reply;
  if (words.size() < 2) {
    reply = "CLIENT_ERROR bad authentication token format\r\n";
  } else if (context_->tokens->Check(words[1], Role::kData).ok()) {
    authenticated_ = true;
    reply = "STORED\r\n";
  } else {
    reply = "CLIENT_ERROR authentication failure\r\n";
  }
  Count("auth", authenticated_);
  connection.Answer(std::move(reply));
}

void McSession::Stop(evbuffer* input, DoorConnection& connection) {
  stopped_ = true;
  connection.CloseAfterReplies();
  evbuffer_drain(input, evbuffer_get_length(input));
}

void McSession::Count(absl::string_view command, bool ok) {
  if (context_->metrics != nullptr) context_->metrics->Count(kDoor, command, ok);
}

}  // namespace quorumkv
