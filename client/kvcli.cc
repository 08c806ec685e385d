// kvcli: the QuorumKV command-line client (commands and exit codes: README).
//
// Exit codes: 0 success; 1 key not found; 2 bad usage or invalid argument;
// 3 unavailable (quorum not reached, master or node unreachable, deadline);
// 4 any other error; 5 a condition that did not hold (cas: nothing
// written). Every error is one line on standard error.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <variant>
#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/escaping.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "quorumkv/client.h"
#include "client/json_line.h"
#include "common/auth_tokens.h"
#include "common/grpc_log.h"
#include "common/tls.h"
#include "common/flags.h"
#include "common/limits.h"
#include "common/version.h"
#include "common/process.h"
#include "common/status_macros.h"

ABSL_FLAG(std::string, master, "",
          "master host:port, or HOST:PORT,HOST:PORT,... of several masters "
          "(default: $KV_MASTER, then 127.0.0.1:7000)");
ABSL_FLAG(std::string, mode, "iterative", "iterative or recursive");
ABSL_FLAG(std::optional<int>, w, std::nullopt,
          "write quorum, 1..N (default: N/2+1, a majority)");
ABSL_FLAG(std::optional<int>, r, std::nullopt,
          "read quorum, 1..N (default: N/2+1, a majority)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5),
          "time a request may take, retries included");
ABSL_FLAG(bool, json, false, "machine-readable output");
ABSL_FLAG(std::string, tls_dir, "",
          "directory holding ca.pem, cert.pem and key.pem, for a cluster "
          "with mutual TLS (default: $KV_TLS_DIR; plaintext when neither)");
ABSL_FLAG(std::string, token_file, "",
          "file holding the token to send (default: $KV_TOKEN, the token "
          "itself)");

namespace quorumkv {
namespace {

struct Context {
  Client* client = nullptr;
  std::vector<std::string> args;  // after the command name
  // The command's own options given ("--dry-run", ...).
  std::vector<std::string> options;
  RequestOptions request;
  bool json = false;
  // The command printed its JSON answer, a failure's included (a batch
  // with failed keys, a condition that did not hold): nothing more goes to
  // standard output.
  bool answered = false;
  absl::Duration timeout;
  bool Has(absl::string_view option) const {
    return std::find(options.begin(), options.end(), option) != options.end();
  }
  // The value of a "--name=" option given; "" when it was not.
  std::string Value(absl::string_view option) const {
    for (const std::string& given : options) {
      if (absl::StartsWith(given, option)) return given.substr(option.size());
    }
    return "";
  }
};

// Whether `arg` is `option`, or gives a value to an option ending in '='
// (or names it, the value following as the next argument).
bool MatchesOption(absl::string_view option, absl::string_view arg) {
  if (!absl::EndsWith(option, "=")) return arg == option;
  return absl::StartsWith(arg, option) ||
         arg == option.substr(0, option.size() - 1);
}

bool AnyMatches(const std::vector<absl::string_view>& options,
                absl::string_view arg) {
  return std::any_of(options.begin(), options.end(),
                     [&](absl::string_view o) { return MatchesOption(o, arg); });
}

struct Command {
  const char* name;
  const char* usage;
  const char* description;
  size_t args;
  absl::Status (*run)(Context&);
  // Options of this command alone, e.g. {"--dry-run", "--wait"}.
  std::vector<absl::string_view> options = {};
  // `args` is the least it takes: it takes more (KEY...).
  bool more = false;
};

// Length of the well-formed UTF-8 sequence at the start of `bytes` (RFC
// 3629: no overlong forms, no surrogates, nothing above U+10FFFF); 0 when
// it does not start with one.
size_t Utf8SequenceLength(absl::string_view bytes) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length;
  unsigned char low = 0x80, high = 0xBF;  // bounds of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (bytes.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

bool IsUtf8(absl::string_view bytes) {
  while (!bytes.empty()) {
    const size_t length = Utf8SequenceLength(bytes);
    if (length == 0) return false;
    bytes.remove_prefix(length);
  }
  return true;
}

// A JSON string literal of `bytes`: UTF-8 passes through, control
// characters are escaped, and each byte that is not part of well-formed
// UTF-8 becomes U+FFFD, so the output is always valid JSON.
std::string Json(absl::string_view bytes) {
  std::string out = "\"";
  while (!bytes.empty()) {
    const size_t length = Utf8SequenceLength(bytes);
    const unsigned char c = static_cast<unsigned char>(bytes[0]);
    if (length == 0) {
      out += "\\ufffd";
      bytes.remove_prefix(1);
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.append(bytes.data(), length);
        }
    }
    bytes.remove_prefix(length);
  }
  return out + "\"";
}

// `"key": ...` of a JSON object; a key that is not UTF-8 also gets
// `"key_base64"`, its exact bytes (as values always do).
std::string KeyFields(absl::string_view key) {
  std::string out = absl::StrCat("\"key\": ", Json(key));
  if (!IsUtf8(key)) {
    absl::StrAppend(&out, ", \"key_base64\": \"", absl::Base64Escape(key), "\"");
  }
  return out;
}

// Warns when the request's W+R cannot overlap (eventual consistency).
absl::Status CheckQuorums(Context& ctx) {
  if (ctx.request.w == 0 && ctx.request.r == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(uint32_t n, ctx.client->ReplicationFactor());
  ASSIGN_OR_RETURN(uint32_t w, ResolveQuorum("--w", ctx.request.w, n));
  ASSIGN_OR_RETURN(uint32_t r, ResolveQuorum("--r", ctx.request.r, n));
  if (w + r <= n) {
    std::cerr << absl::StrFormat(
        "kvcli: warning: W+R <= N (%d+%d <= %d): eventual consistency, a read "
        "may not see the latest write\n",
        w, r, n);
  }
  return absl::OkStatus();
}

absl::Status PrintWrite(const Context& ctx, const WriteResult& result) {
  if (ctx.json) {
    std::cout << "{" << KeyFields(ctx.args[0]) << ", \"version\": "
              << Json(result.version) << ", \"acks\": " << result.acks
              << "}\n";
  } else {
    std::cout << "OK (version " << result.version << ", " << result.acks
              << " acks)\n";
  }
  return absl::OkStatus();
}

// A TTL given as a duration ("500ms", "30s", "2h"): 1 ms .. 100 years.
absl::StatusOr<absl::Duration> ParseTtl(absl::string_view text) {
  absl::Duration ttl;
  if (!absl::ParseDuration(text, &ttl)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TTL '", text, "' is not a duration (like 500ms, 30s, 2h)"));
  }
  if (ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("TTL ", text, " is negative"));
  }
  if (ttl < absl::Milliseconds(1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TTL ", text, " is below 1ms (persist clears an expiry)"));
  }
  if (ttl > absl::Milliseconds(kMaxTtlMs)) {
    return absl::InvalidArgumentError(
        absl::StrCat("TTL ", text, " is beyond the limit of 100 years"));
  }
  return ttl;
}

// A key of a batch that failed, as a JSON item.
std::string ItemErrorJson(absl::string_view key, const absl::Status& status) {
  return absl::StrCat("{", KeyFields(key), ", \"error\": {\"code\": ",
                      Json(absl::StatusCodeToString(status.code())),
                      ", \"message\": ", Json(status.message()), "}}");
}

// The exit status of a batch: the first failure's (a missing key is 1),
// after every result is printed.
absl::Status BatchStatus(size_t failed, const absl::Status& first) {
  if (failed == 0) return absl::OkStatus();
  return absl::Status(first.code(),
                      absl::StrCat(failed, " key(s) failed; first: ",
                                   first.message()));
}

// The results of a batch of writes, one line (or JSON item) per key.
template <typename KeyOf>
absl::Status PrintWrites(Context& ctx,
                         const std::vector<absl::StatusOr<WriteResult>>& results,
                         KeyOf key_of) {
  size_t failed = 0;
  absl::Status first;
  std::string json;
  for (size_t i = 0; i < results.size(); ++i) {
    const std::string key = key_of(i);
    const absl::StatusOr<WriteResult>& r = results[i];
    if (!r.ok() && failed++ == 0) first = r.status();
    if (ctx.json) {
      absl::StrAppend(
          &json, i ? ", " : "",
          r.ok() ? absl::StrCat("{", KeyFields(key), ", \"version\": ",
                                Json(r->version), ", \"acks\": ", r->acks,
                                ", \"existed\": ", r->existed ? "true" : "false",
                                "}")
                 : ItemErrorJson(key, r.status()));
    } else if (r.ok()) {
      std::cout << key << "\tOK (version " << r->version << ", " << r->acks
                << " acks)\n";
    } else {
      std::cout << key << "\tFAILED (" << r.status().message() << ")\n";
    }
  }
  if (ctx.json) {
    std::cout << "{\"items\": [" << json << "]}\n";
    ctx.answered = true;
  }
  return BatchStatus(failed, first);
}

absl::Status RunPut(Context& ctx) {
  if (!ctx.options.empty()) {  // --ttl=, the one option of put
    ASSIGN_OR_RETURN(ctx.request.ttl, ParseTtl(ctx.Value("--ttl=")));
  }
  std::string value = ctx.args[1];
  if (value == "-") {
    // In blocks: a character at a time took half a second for 4 MiB.
    value.clear();
    char block[64 * 1024];
    size_t got;
    while ((got = std::fread(block, 1, sizeof(block), stdin)) > 0) {
      value.append(block, got);
    }
    if (std::ferror(stdin)) {
      return absl::InvalidArgumentError("cannot read the value from standard input");
    }
  }
  RETURN_IF_ERROR(CheckQuorums(ctx));
  ASSIGN_OR_RETURN(WriteResult result,
                   ctx.client->Put(ctx.args[0], value, ctx.request));
  return PrintWrite(ctx, result);
}

absl::Status RunGet(Context& ctx) {
  const std::string from = ctx.Value("--from=");
  if (!ctx.options.empty() && from.empty()) {
    return absl::InvalidArgumentError("--from needs a node id (kvcli nodes)");
  }
  absl::StatusOr<ReadResult> read;
  if (from.empty()) {
    RETURN_IF_ERROR(CheckQuorums(ctx));
    read = ctx.client->Get(ctx.args[0], ctx.request);
  } else {
    read = ctx.client->GetFromReplica(from, ctx.args[0], ctx.request);
  }
  ASSIGN_OR_RETURN(ReadResult result, std::move(read));
  if (ctx.json) {
    std::cout << "{" << KeyFields(ctx.args[0]) << ", \"value\": \""
              << absl::Base64Escape(result.value) << "\", \"version\": "
              << Json(result.version)
              << ", \"expires_at_ms\": " << result.expires_at_ms << "}\n";
  } else {
    std::fwrite(result.value.data(), 1, result.value.size(), stdout);
    // At a terminal the prompt comes back on a line of its own; into a pipe
    // or a file the bytes go unchanged.
    if (isatty(STDOUT_FILENO) && !absl::EndsWith(result.value, "\n")) {
      std::fputc('\n', stdout);
    }
    std::fflush(stdout);
  }
  return absl::OkStatus();
}

absl::Status RunMget(Context& ctx) {
  RETURN_IF_ERROR(CheckQuorums(ctx));
  ASSIGN_OR_RETURN(auto results, ctx.client->BatchGet(ctx.args, ctx.request));
  size_t failed = 0;
  absl::Status first;
  std::string json;
  for (size_t i = 0; i < results.size(); ++i) {
    const std::string& key = ctx.args[i];
    const absl::StatusOr<ReadResult>& r = results[i];
    if (!r.ok()) {
      if (failed++ == 0) first = r.status();
    }
    if (ctx.json) {
      absl::StrAppend(&json, i ? ", " : "",
                      r.ok() ? absl::StrCat("{", KeyFields(key), ", \"value\": \"",
                                            absl::Base64Escape(r->value),
                                            "\", \"version\": ",
                                            Json(r->version), "}")
                             : ItemErrorJson(key, r.status()));
    } else if (r.ok()) {
      std::cout << key << "\t" << r->value << "\n";
    } else {
      std::cout << key << "\t(" << r.status().message() << ")\n";
    }
  }
  if (ctx.json) {
    std::cout << "{\"items\": [" << json << "]}\n";
    ctx.answered = true;
  }
  return BatchStatus(failed, first);
}

absl::Status RunMput(Context& ctx) {
  if (ctx.args.size() % 2 != 0) {
    return absl::InvalidArgumentError(
        "mput takes pairs: KEY VALUE [KEY VALUE...]");
  }
  std::vector<std::pair<std::string, std::string>> items;
  for (size_t i = 0; i < ctx.args.size(); i += 2) {
    items.emplace_back(ctx.args[i], ctx.args[i + 1]);
  }
  RETURN_IF_ERROR(CheckQuorums(ctx));
  ASSIGN_OR_RETURN(auto results, ctx.client->BatchPut(items, ctx.request));
  return PrintWrites(ctx, results, [&](size_t i) { return items[i].first; });
}

absl::Status RunDel(Context& ctx) {
  if (ctx.args.size() > 1) {
    RETURN_IF_ERROR(CheckQuorums(ctx));
    ASSIGN_OR_RETURN(auto results,
                     ctx.client->BatchDelete(ctx.args, ctx.request));
    return PrintWrites(ctx, results, [&](size_t i) { return ctx.args[i]; });
  }
  RETURN_IF_ERROR(CheckQuorums(ctx));
  ASSIGN_OR_RETURN(WriteResult result,
                   ctx.client->Delete(ctx.args[0], ctx.request));
  if (ctx.json) {
    std::cout << "{" << KeyFields(ctx.args[0]) << ", \"version\": "
              << Json(result.version) << ", \"acks\": " << result.acks
              << ", \"existed\": " << (result.existed ? "true" : "false")
              << "}\n";
  } else {
    std::cout << (result.existed ? "OK, deleted" : "OK, the key did not exist")
              << " (tombstone version " << result.version << ", "
              << result.acks << " acks)\n";
  }
  return absl::OkStatus();
}

absl::Status PrintExpiry(Context& ctx, const WriteResult& result,
                         absl::string_view done) {
  if (ctx.json) {
    ctx.answered = true;
    std::cout << "{" << KeyFields(ctx.args[0]) << ", \"version\": "
              << Json(result.version) << ", \"acks\": " << result.acks
              << ", \"existed\": " << (result.existed ? "true" : "false")
              << "}\n";
  }
  if (!result.existed) {
    // As Redis' EXPIRE answers 0: there was no value to expire.
    return absl::NotFoundError(absl::StrCat(
        "key not found (the expiry is kept, version ", result.version,
        ", and applies to no value)"));
  }
  if (ctx.json) return absl::OkStatus();
  std::cout << "OK, " << done << " (version " << result.version << ", "
            << result.acks << " acks)\n";
  return absl::OkStatus();
}

absl::Status RunExpire(Context& ctx) {
  ASSIGN_OR_RETURN(absl::Duration ttl, ParseTtl(ctx.args[1]));
  RETURN_IF_ERROR(CheckQuorums(ctx));
  ASSIGN_OR_RETURN(WriteResult result,
                   ctx.client->Expire(ctx.args[0], ttl, ctx.request));
  return PrintExpiry(ctx, result,
                     absl::StrCat("expires in ", absl::FormatDuration(ttl)));
}

absl::Status RunPersist(Context& ctx) {
  RETURN_IF_ERROR(CheckQuorums(ctx));
  ASSIGN_OR_RETURN(WriteResult result,
                   ctx.client->Persist(ctx.args[0], ctx.request));
  return PrintExpiry(ctx, result, "no expiry");
}

absl::Status RunTtl(Context& ctx) {
  RETURN_IF_ERROR(CheckQuorums(ctx));
  ASSIGN_OR_RETURN(ReadResult read, ctx.client->Get(ctx.args[0], ctx.request));
  // The remaining time as of now, never below 1 ms for a live key.
  const int64_t ttl_ms =
      read.expires_at_ms == 0
          ? -1
          : std::max<int64_t>(1, read.expires_at_ms -
                                     absl::ToUnixMillis(absl::Now()));
  if (ctx.json) {
    std::cout << "{" << KeyFields(ctx.args[0]) << ", \"ttl_ms\": " << ttl_ms
              << "}\n";
  } else if (ttl_ms < 0) {
    std::cout << "no expiry\n";
  } else {
    std::cout << absl::FormatDuration(absl::Milliseconds(ttl_ms)) << "\n";
  }
  return absl::OkStatus();
}

// A read's JSON, as `get --json` prints it.
std::string ValueJson(absl::string_view key, absl::string_view value,
                      absl::string_view version, int64_t expires_at_ms) {
  return absl::StrCat("{", KeyFields(key), ", \"value\": \"",
                      absl::Base64Escape(value), "\", \"version\": ",
                      Json(version), ", \"expires_at_ms\": ", expires_at_ms,
                      "}");
}

// A positive count given as --NAME=N.
absl::StatusOr<size_t> CountOption(const Context& ctx, absl::string_view name) {
  const std::string given = ctx.Value(absl::StrCat(name, "="));
  size_t count = 0;
  if (!absl::SimpleAtoi(given, &count) || count < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, "=", given, " is not a positive whole number"));
  }
  return count;
}

bool HasOption(const Context& ctx, absl::string_view prefix) {
  for (const std::string& given : ctx.options) {
    if (absl::StartsWith(given, prefix)) return true;
  }
  return false;
}

absl::Status RunScan(Context& ctx) {
  ScanOptions options;
  options.prefix = ctx.Value("--prefix=");
  options.cursor = ctx.Value("--cursor=");
  options.keys_only = ctx.Has("--keys-only");
  options.request = ctx.request;
  // Without --limit, every key, a page at a time: memory stays one page's.
  const bool one_page = HasOption(ctx, "--limit=");
  if (one_page) {
    ASSIGN_OR_RETURN(options.limit, CountOption(ctx, "--limit"));
  } else {
    options.limit = 1000;
  }
  if (ctx.json) std::cout << "{\"items\": [";
  size_t printed = 0;
  std::string cursor;
  do {
    absl::StatusOr<ScanPage> next = ctx.client->Scan(options);
    if (!next.ok()) {
      if (ctx.json) {
        // What was printed stays one JSON object: the keys so far, where
        // to go on, and the error.
        std::cout << "], \"cursor\": " << Json(options.cursor)
                  << ", \"error\": {\"code\": "
                  << Json(absl::StatusCodeToString(next.status().code()))
                  << ", \"message\": " << Json(next.status().message())
                  << "}}\n";
        ctx.answered = true;
      }
      return next.status();
    }
    ScanPage& page = *next;
    for (const ScanItem& item : page.items) {
      if (ctx.json) {
        std::cout << (printed ? ", " : "")
                  << (options.keys_only
                          ? absl::StrCat("{", KeyFields(item.key),
                                         ", \"version\": ", Json(item.version),
                                         "}")
                          : ValueJson(item.key, item.value, item.version,
                                      item.expires_at_ms));
      } else if (options.keys_only) {
        std::cout << item.key << "\n";
      } else {
        std::cout << item.key << "\t" << item.value << "\n";
      }
      ++printed;
    }
    cursor = page.cursor;
    options.cursor = cursor;
  } while (!one_page && !cursor.empty());
  if (ctx.json) {
    std::cout << "], \"cursor\": " << Json(cursor) << "}\n";
  } else if (!cursor.empty()) {
    std::cerr << "kvcli: more keys: go on with --cursor=" << cursor << "\n";
  }
  return absl::OkStatus();
}

// kvcli's own code for a condition that did not hold (exit 5).
absl::Status ConditionFailed(absl::string_view why) {
  return absl::AbortedError(why);
}

absl::Status PrintCas(Context& ctx, const CasResult& result) {
  ctx.answered = ctx.json;
  if (result.applied) {
    if (ctx.json) {
      std::cout << "{\"applied\": true, \"current\": "
                << ValueJson(ctx.args[0], result.value, result.version,
                             result.expires_at_ms)
                << "}\n";
    } else {
      std::cout << "OK, applied (version " << result.version << ")\n";
    }
    return absl::OkStatus();
  }
  if (ctx.json) {
    std::cout << "{\"applied\": false, \"current\": "
              << (result.found ? ValueJson(ctx.args[0], result.value,
                                           result.version, result.expires_at_ms)
                               : "null")
              << "}\n";
  } else if (result.found) {
    std::cout << "not applied: current version " << result.version
              << ", value:\n" << result.value << "\n";
  } else {
    std::cout << "not applied: the key has no value\n";
  }
  return ConditionFailed("the condition did not hold; nothing written");
}

absl::Status RunCas(Context& ctx) {
  CasCondition condition;
  int given = 0;
  if (HasOption(ctx, "--if-version=")) {
    condition.if_version = ctx.Value("--if-version=");
    ++given;
  }
  if (ctx.Has("--if-absent")) {
    condition.if_absent = true;
    ++given;
  }
  if (HasOption(ctx, "--if-value=")) {
    condition.if_value = ctx.Value("--if-value=");
    ++given;
  }
  if (given != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cas takes exactly one condition (--if-version=V, --if-absent or "
        "--if-value=BYTES); ", given, " given"));
  }
  if (HasOption(ctx, "--ttl=")) {
    ASSIGN_OR_RETURN(ctx.request.ttl, ParseTtl(ctx.Value("--ttl=")));
  }
  ASSIGN_OR_RETURN(CasResult result,
                   ctx.client->CompareAndSet(ctx.args[0], condition,
                                             ctx.args[1], ctx.request));
  return PrintCas(ctx, result);
}

absl::Status RunIncr(Context& ctx) {
  int64_t delta = 1;
  if (ctx.args.size() > 2) {
    return absl::InvalidArgumentError("usage: kvcli incr KEY [DELTA]");
  }
  if (ctx.args.size() == 2 && !absl::SimpleAtoi(ctx.args[1], &delta)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DELTA '", ctx.args[1], "' is not a 64-bit integer"));
  }
  ASSIGN_OR_RETURN(CasResult result,
                   ctx.client->Increment(ctx.args[0], delta, ctx.request));
  if (ctx.json) {
    std::cout << "{" << KeyFields(ctx.args[0]) << ", \"value\": "
              << result.value << ", \"version\": " << Json(result.version)
              << "}\n";
  } else {
    std::cout << result.value << "\n";
  }
  return absl::OkStatus();
}

// A progress line on standard error at most every few seconds.
class Progress {
 public:
  explicit Progress(absl::string_view what) : what_(what) {}
  void Count(size_t n, absl::string_view where) {
    count_ += n;
    const absl::Time now = absl::Now();
    if (now - last_ < absl::Seconds(5)) return;
    last_ = now;
    std::cerr << "kvcli: " << what_ << ": " << count_ << " keys so far"
              << (where.empty() ? "" : absl::StrCat(", ", where)) << "\n";
  }
  size_t count() const { return count_; }

 private:
  const std::string what_;
  size_t count_ = 0;
  absl::Time last_ = absl::Now();
};

absl::Status RunExport(Context& ctx) {
  ScanOptions options;
  options.prefix = ctx.Value("--prefix=");
  options.limit = 1000;
  options.request = ctx.request;
  Progress progress("export");
  do {
    ASSIGN_OR_RETURN(ScanPage page, ctx.client->Scan(options));
    for (const ScanItem& item : page.items) {
      std::cout << "{\"key\": \"" << absl::Base64Escape(item.key)
                << "\", \"value\": \"" << absl::Base64Escape(item.value)
                << "\", \"version\": " << Json(item.version)
                << ", \"expires_at_ms\": " << item.expires_at_ms << "}\n";
    }
    if (!std::cout) {
      return absl::UnavailableError("cannot write to standard output");
    }
    progress.Count(page.items.size(), "");
    options.cursor = page.cursor;
  } while (!options.cursor.empty());
  std::cout.flush();
  std::cerr << "kvcli: exported " << progress.count() << " keys\n";
  return absl::OkStatus();
}

// One exported line as a row to restore; the error names the line.
absl::StatusOr<ImportRow> ParseImportLine(absl::string_view line,
                                          size_t number) {
  auto fail = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", number, ": ", why));
  };
  absl::StatusOr<std::map<std::string, JsonScalar>> members =
      ParseFlatJsonObject(line);
  if (!members.ok()) return fail(members.status().message());
  auto text = [&](const char* name) -> const std::string* {
    auto it = members->find(name);
    return it == members->end() ? nullptr
                                : std::get_if<std::string>(&it->second);
  };
  ImportRow row;
  const std::string* key = text("key");
  const std::string* value = text("value");
  const std::string* version = text("version");
  if (key == nullptr || value == nullptr || version == nullptr) {
    return fail("needs \"key\", \"value\" and \"version\" strings");
  }
  if (!absl::Base64Unescape(*key, &row.key) ||
      !absl::Base64Unescape(*value, &row.value)) {
    return fail("key and value must be base64");
  }
  row.version = *version;
  if (auto it = members->find("expires_at_ms"); it != members->end()) {
    const int64_t* at = std::get_if<int64_t>(&it->second);
    if (at == nullptr || *at < 0) {
      return fail("expires_at_ms must be a whole number of ms, 0 for none");
    }
    row.expires_at_ms = *at;
  }
  return row;
}

absl::Status RunImport(Context& ctx) {
  // Rows are sent a batch at a time: memory stays one batch's.
  constexpr size_t kBatchRows = 256;
  constexpr size_t kBatchBytes = 8 << 20;
  Progress progress("import");
  std::vector<ImportRow> batch;
  size_t batch_bytes = 0, failed = 0, number = 0;
  absl::Status first;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(auto results, ctx.client->Import(batch, ctx.request));
    for (size_t i = 0; i < results.size(); ++i) {
      if (results[i].ok()) continue;
      if (failed++ == 0) {
        first = Prepend(results[i].status(),
                        absl::StrCat("key '", absl::CHexEscape(batch[i].key), "'"));
      }
    }
    progress.Count(batch.size(), "");
    batch.clear();
    batch_bytes = 0;
    return absl::OkStatus();
  };
  std::string line;
  while (std::getline(std::cin, line)) {
    ++number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    ASSIGN_OR_RETURN(ImportRow row, ParseImportLine(line, number));
    batch_bytes += row.key.size() + row.value.size();
    batch.push_back(std::move(row));
    if (batch.size() >= kBatchRows || batch_bytes >= kBatchBytes) {
      RETURN_IF_ERROR(flush());
    }
  }
  if (std::cin.bad()) {
    return absl::InvalidArgumentError("cannot read standard input");
  }
  RETURN_IF_ERROR(flush());
  std::cerr << "kvcli: imported " << progress.count() - failed << " of "
            << progress.count() << " keys\n";
  if (failed > 0) {
    return absl::Status(first.code(), absl::StrCat(failed, " key(s) failed; first: ",
                                                   first.message()));
  }
  return absl::OkStatus();
}

absl::Status RunWhere(Context& ctx) {
  ASSIGN_OR_RETURN(KeyLocation where, ctx.client->Where(ctx.args[0]));
  if (ctx.json) {
    auto list = [](const std::vector<ReplicaLocation>& replicas) {
      std::string out = "[";
      for (size_t i = 0; i < replicas.size(); ++i) {
        const ReplicaLocation& r = replicas[i];
        absl::StrAppend(&out, i ? ", " : "", "{\"id\": ", Json(r.id),
                        ", \"address\": ", Json(r.address),
                        ", \"rack\": ", Json(r.rack),
                        ", \"state\": ", Json(r.state), "}");
      }
      return out + "]";
    };
    std::cout << "{" << KeyFields(ctx.args[0])
              << ", \"partition\": " << where.partition
              << ", \"epoch\": " << where.epoch
              << ", \"replicas\": " << list(where.replicas)
              << ", \"joining\": " << list(where.joining) << "}\n";
    return absl::OkStatus();
  }
  std::cout << "partition " << where.partition << ", epoch " << where.epoch
            << "\n";
  std::cout << absl::StrFormat("%-14s %-22s %-8s %-16s %s\n", "NODE",
                               "ADDRESS", "RACK", "STATE", "ROLE");
  for (const ReplicaLocation& r : where.replicas) {
    std::cout << absl::StrFormat("%-14s %-22s %-8s %-16s %s\n", r.id,
                                 r.address, r.rack, r.state, "replica");
  }
  for (const ReplicaLocation& r : where.joining) {
    std::cout << absl::StrFormat("%-14s %-22s %-8s %-16s %s\n", r.id,
                                 r.address, r.rack, r.state, "joining");
  }
  return absl::OkStatus();
}

// Anti-entropy's progress, for `nodes` and `status`.
std::string AntiEntropyJson(const ClusterSummary& cluster) {
  return absl::StrCat("{\"compared\": ", cluster.anti_entropy_compared,
                      ", \"oldest_ms\": ", cluster.anti_entropy_oldest_ms,
                      ", \"rows_exchanged\": ",
                      cluster.anti_entropy_rows_exchanged,
                      ", \"bytes_exchanged\": ",
                      cluster.anti_entropy_bytes_exchanged,
                      ", \"diverged\": ", cluster.anti_entropy_diverged, "}");
}

std::string AntiEntropyLine(const ClusterSummary& cluster) {
  return absl::StrCat(
      "anti-entropy: ",
      cluster.anti_entropy_oldest_ms < 0
          ? absl::StrCat(cluster.anti_entropy_compared, " of ",
                         cluster.partitions, " partitions compared so far")
          : absl::StrCat("every partition compared, the oldest ",
                         cluster.anti_entropy_oldest_ms / 1000, " s ago"),
      "; ", cluster.anti_entropy_rows_exchanged, " rows exchanged",
      cluster.anti_entropy_diverged > 0
          ? absl::StrCat("; ", cluster.anti_entropy_diverged,
                         " partition(s) may have diverged, compared next")
          : "",
      "\n");
}

// Bytes as the status page shows them: B, KiB, MiB, GiB, TiB.
std::string Iec(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double n = static_cast<double>(bytes);
  int unit = 0;
  while (n >= 1024 && unit < 4) {
    n /= 1024;
    ++unit;
  }
  return unit == 0 ? absl::StrCat(bytes, "B")
                   : absl::StrFormat("%.1f%s", n, kUnits[unit]);
}

// A count in at most six characters: 999999, 1.2M, 3.4G.
std::string Count(uint64_t n) {
  if (n < 1000000) return absl::StrCat(n);
  if (n < 1000000000) return absl::StrFormat("%.1fM", n / 1e6);
  return absl::StrFormat("%.1fG", n / 1e9);
}

absl::Status RunNodes(Context& ctx) {
  ASSIGN_OR_RETURN(ClusterSummary cluster, ctx.client->Nodes());
  if (ctx.json) {
    std::cout << "{\"epoch\": " << cluster.epoch
              << ", \"formed\": " << (cluster.formed ? "true" : "false")
              << ", \"partitions\": " << cluster.partitions
              << ", \"replication\": " << cluster.replication
              << ", \"nodes\": [";
    for (size_t i = 0; i < cluster.nodes.size(); ++i) {
      const NodeSummary& n = cluster.nodes[i];
      std::cout << (i ? ", " : "") << "{\"id\": " << Json(n.node.id)
                << ", \"address\": " << Json(n.node.address)
                << ", \"rack\": " << Json(n.node.rack)
                << ", \"state\": " << Json(n.node.state)
                << ", \"partitions\": " << n.partitions
                << ", \"joining\": " << n.joining
                << ", \"keys\": " << n.keys << ", \"bytes\": " << n.bytes
                << ", \"free_bytes\": " << n.free_bytes
                << absl::StrFormat(", \"reads_per_sec\": %.1f", n.reads_per_sec)
                << absl::StrFormat(", \"writes_per_sec\": %.1f",
                                   n.writes_per_sec)
                << ", \"pending_hints\": " << n.pending_hints
                << ", \"last_heartbeat_ms_ago\": " << n.last_heartbeat_ms_ago
                << ", \"directory_epoch\": " << n.directory_epoch
                << ", \"name\": " << Json(n.node.name)
                << ", \"cache\": {\"hits\": " << n.cache.hits
                << ", \"misses\": " << n.cache.misses
                << ", \"evictions\": " << n.cache.evictions
                << ", \"bytes\": " << n.cache.bytes
                << ", \"capacity_bytes\": " << n.cache.capacity_bytes << "}}";
    }
    std::cout << "], \"anti_entropy\": " << AntiEntropyJson(cluster) << "}\n";
    return absl::OkStatus();
  }
  std::cout << "epoch " << cluster.epoch << ", " << cluster.partitions
            << " partitions, N=" << cluster.replication;
  if (!cluster.formed) {
    std::cout << ", not formed: " << cluster.registered_nodes << " of "
              << cluster.initial_nodes << " nodes registered";
  }
  std::cout << "\n";
  std::vector<const NodeSummary*> nodes;
  for (const NodeSummary& n : cluster.nodes) nodes.push_back(&n);
  // By rack, then by address: the order an operator reads a rack in.
  std::sort(nodes.begin(), nodes.end(), [](const NodeSummary* a, const NodeSummary* b) {
    return std::tie(a->node.rack, a->node.address) <
           std::tie(b->node.rack, b->node.address);
  });
  const bool wide = ctx.Has("--wide");
  std::string rack;
  for (const NodeSummary* n : nodes) {
    if (n == nodes.front() || n->node.rack != rack) {
      rack = n->node.rack;
      std::cout << "rack " << rack << "\n";
      std::cout << (wide ? absl::StrFormat(
                               "  %-8s %-12s %-21s %-15s %5s %4s %9s %11s "
                               "%11s %8s %8s %6s %7s %5s\n",
                               "NAME", "ID", "ADDRESS", "STATE", "PARTS",
                               "JOIN", "KEYS", "BYTES", "FREE_BYTES",
                               "READS/S", "WRITES/S", "HINTS", "HB_MS", "EPOCH")
                         : absl::StrFormat(
                               "  %-6s %-12s %-15s %-8s %5s %6s %8s %8s %6s "
                               "%6s %5s\n",
                               "NAME", "ID", "ADDRESS", "STATE", "PARTS",
                               "KEYS", "DATA", "FREE", "RD/S", "WR/S", "HB"));
    }
    const std::string heartbeat =
        n->last_heartbeat_ms_ago < 0
            ? "-"
            : absl::StrFormat("%.1fs", n->last_heartbeat_ms_ago / 1000.0);
    if (wide) {
      std::cout << absl::StrFormat(
          "  %-8s %-12s %-21s %-15s %5d %4d %9d %11d %11d %8.1f %8.1f %6d "
          "%7d %5d\n",
          n->node.name.empty() ? "-" : n->node.name, n->node.id,
          n->node.address, n->node.state, n->partitions, n->joining, n->keys,
          n->bytes, n->free_bytes, n->reads_per_sec, n->writes_per_sec,
          n->pending_hints, n->last_heartbeat_ms_ago, n->directory_epoch);
    } else {
      std::cout << absl::StrFormat(
          "  %-6s %-12s %-15s %-8s %5d %6s %8s %8s %6.0f %6.0f %5s\n",
          n->node.name.empty() ? "-" : n->node.name, n->node.id,
          n->node.address,
          n->node.state == "DECOMMISSIONING" ? "DRAINING" : n->node.state,
          n->partitions, Count(n->keys), Iec(n->bytes), Iec(n->free_bytes),
          n->reads_per_sec, n->writes_per_sec, heartbeat);
    }
  }
  if (!wide) {
    std::cout << "(DATA: keys and values held; HB: since the last heartbeat; "
                 "--wide: every column)\n";
  }
  std::cout << AntiEntropyLine(cluster);
  return absl::OkStatus();
}

std::string MoveJson(const MoveInfo& m) {
  std::string out = absl::StrCat(
      "{\"partition\": ", m.partition, ", \"from\": ", Json(m.from),
      ", \"to\": ", Json(m.to), ", \"reason\": ", Json(m.reason),
      ", \"state\": ", Json(m.state), ", \"bytes_streamed\": ",
      m.bytes_streamed, ", \"started_ms\": ", m.started_ms);
  if (m.finished_ms != 0) {
    absl::StrAppend(&out, ", \"finished_ms\": ", m.finished_ms,
                    ", \"why\": ", Json(m.why));
  }
  return out + "}";
}

std::string ClockTime(int64_t unix_ms) {
  return unix_ms == 0 ? std::string("-")
                      : absl::FormatTime("%H:%M:%S", absl::FromUnixMillis(unix_ms),
                                         absl::LocalTimeZone());
}

// `what` the moves are: "in flight" (moves) or "planned" (plan, a drain).
void PrintMoves(const Context& ctx, const MoveList& list,
                absl::string_view what = "in flight") {
  if (ctx.json) {
    std::cout << "{\"epoch\": " << list.epoch << ", \"moves\": [";
    for (size_t i = 0; i < list.moves.size(); ++i) {
      std::cout << (i ? ", " : "") << MoveJson(list.moves[i]);
    }
    std::cout << "], \"recent\": [";
    for (size_t i = 0; i < list.recent.size(); ++i) {
      std::cout << (i ? ", " : "") << MoveJson(list.recent[i]);
    }
    std::cout << "]}\n";
    return;
  }
  std::cout << "epoch " << list.epoch << ", " << list.moves.size()
            << (list.moves.size() == 1 ? " move" : " moves") << " " << what
            << "\n";
  if (!list.moves.empty()) {
    std::cout << absl::StrFormat("%5s %-14s %-14s %-13s %-10s %12s %s\n",
                                 "PART", "FROM", "TO", "REASON", "STATE",
                                 "BYTES", "STARTED");
    for (const MoveInfo& m : list.moves) {
      std::cout << absl::StrFormat(
          "%5d %-14s %-14s %-13s %-10s %12d %s\n", m.partition,
          m.from.empty() ? "-" : m.from, m.to, m.reason, m.state,
          m.bytes_streamed, ClockTime(m.started_ms));
    }
  }
  if (!list.recent.empty()) {
    std::cout << list.recent.size() << " ended in the last 10 minutes:\n"
              << absl::StrFormat("%5s %-14s %-14s %-13s %-10s %8s %s\n",
                                 "PART", "FROM", "TO", "REASON", "OUTCOME",
                                 "TOOK", "ENDED");
    for (const MoveInfo& m : list.recent) {
      std::cout << absl::StrFormat(
          "%5d %-14s %-14s %-13s %-10s %8s %s%s\n", m.partition,
          m.from.empty() ? "-" : m.from, m.to, m.reason, m.state,
          m.started_ms == 0
              ? std::string("-")
              : absl::StrFormat("%.1fs", (m.finished_ms - m.started_ms) / 1000.0),
          ClockTime(m.finished_ms), m.why.empty() ? "" : " (" + m.why + ")");
    }
  }
}

// The cluster's hottest keys and partitions over the nodes' last
// heartbeats, as the master sums them.
absl::Status RunHot(Context& ctx) {
  ASSIGN_OR_RETURN(ClusterSummary cluster, ctx.client->Nodes());
  absl::flat_hash_map<std::string, const NodeSummary*> by_id;
  for (const NodeSummary& n : cluster.nodes) by_id[n.node.id] = &n;
  if (ctx.json) {
    std::cout << "{\"keys\": [";
    for (size_t i = 0; i < cluster.hot_keys.size(); ++i) {
      const auto& k = cluster.hot_keys[i];
      std::cout << (i ? ", " : "") << "{\"key\": " << Json(k.key)
                << ", \"partition\": " << k.partition
                << absl::StrFormat(", \"reads_per_sec\": %.1f, \"writes_per_sec\": %.1f}",
                                   k.reads_per_sec, k.writes_per_sec);
    }
    std::cout << "], \"partitions\": [";
    for (size_t i = 0; i < cluster.hot_partitions.size(); ++i) {
      const auto& p = cluster.hot_partitions[i];
      std::cout << (i ? ", " : "") << "{\"partition\": " << p.partition
                << absl::StrFormat(", \"reads_per_sec\": %.1f, \"writes_per_sec\": %.1f",
                                   p.reads_per_sec, p.writes_per_sec)
                << ", \"replicas\": [";
      for (size_t r = 0; r < p.replicas.size(); ++r) {
        auto node = by_id.find(p.replicas[r]);
        std::cout << (r ? ", " : "") << "{\"id\": " << Json(p.replicas[r]);
        if (node != by_id.end()) {
          std::cout << ", \"address\": " << Json(node->second->node.address)
                    << ", \"rack\": " << Json(node->second->node.rack)
                    << ", \"state\": " << Json(node->second->node.state);
        }
        std::cout << "}";
      }
      // Extra read replicas of hot partitions are not made yet.
      std::cout << "], \"extra\": []}";
    }
    std::cout << "]}\n";
    return absl::OkStatus();
  }
  if (cluster.hot_keys.empty() && cluster.hot_partitions.empty()) {
    std::cout << "no requests in the nodes' last heartbeat interval\n";
    return absl::OkStatus();
  }
  std::cout << "hottest keys (requests/s the nodes coordinated, last heartbeat):\n";
  std::cout << absl::StrFormat("  %-32s %9s %9s %9s\n", "KEY", "PARTITION", "READS/S",
                               "WRITES/S");
  for (const auto& k : cluster.hot_keys) {
    std::cout << absl::StrFormat("  %-32s %9u %9.1f %9.1f\n", k.key, k.partition,
                                 k.reads_per_sec, k.writes_per_sec);
  }
  std::cout << "hottest partitions:\n";
  std::cout << absl::StrFormat("  %9s %9s %9s  %s\n", "PARTITION", "READS/S", "WRITES/S",
                               "REPLICAS");
  for (const auto& p : cluster.hot_partitions) {
    std::vector<std::string> names;
    for (const std::string& id : p.replicas) {
      auto node = by_id.find(id);
      names.push_back(node != by_id.end() && !node->second->node.name.empty()
                          ? node->second->node.name
                          : id);
    }
    std::cout << absl::StrFormat("  %9u %9.1f %9.1f  %s\n", p.partition, p.reads_per_sec,
                                 p.writes_per_sec, absl::StrJoin(names, " "));
  }
  return absl::OkStatus();
}

absl::Status RunMoves(Context& ctx) {
  ASSIGN_OR_RETURN(MoveList moves, ctx.client->Moves());
  PrintMoves(ctx, moves);
  return absl::OkStatus();
}

absl::Status RunPlan(Context& ctx) {
  ASSIGN_OR_RETURN(MoveList plan, ctx.client->Plan());
  PrintMoves(ctx, plan, "planned");
  return absl::OkStatus();
}

// Refusals are the user's to fix (exit 2 with the reason, as the README says).
absl::Status AsUsageError(const absl::Status& status) {
  if (absl::IsFailedPrecondition(status) || absl::IsNotFound(status)) {
    return absl::InvalidArgumentError(status.message());
  }
  return status;
}

absl::Status RunDecommission(Context& ctx) {
  const std::string& node_id = ctx.args[0];
  const bool dry_run = ctx.Has("--dry-run");
  absl::StatusOr<DecommissionResult> result =
      ctx.client->Decommission(node_id, dry_run);
  if (!result.ok()) return AsUsageError(result.status());
  if (!ctx.json) {
    std::cout << (dry_run ? "would drain " : "draining ") << node_id << ": "
              << result->moves.size() << " partition move(s)"
              << (result->removed ? " (it held nothing: REMOVED)" : "")
              << "\n";
  }
  PrintMoves(ctx, MoveList{result->epoch, result->moves, {}}, "planned");
  if (dry_run || result->removed || !ctx.Has("--wait")) return absl::OkStatus();
  // Until the node is REMOVED; the master may be away for a while (its
  // moves resume when it is back), but not for longer than --timeout.
  absl::Time last_contact = absl::Now();
  while (true) {
    absl::StatusOr<ClusterSummary> cluster = ctx.client->Nodes();
    if (cluster.ok()) {
      last_contact = absl::Now();
      for (const NodeSummary& n : cluster->nodes) {
        if (n.node.id == node_id && n.node.state == "REMOVED") {
          if (!ctx.json) std::cout << node_id << " is REMOVED\n";
          return absl::OkStatus();
        }
      }
    } else if (absl::Now() - last_contact > ctx.timeout) {
      return cluster.status();
    }
    absl::SleepFor(absl::Milliseconds(500));
  }
}

// What `status` says of a node that is not plainly well: UP but silent
// for more than two heartbeats ("suspect": it is DOWN once silent for
// --node_down_after), or DOWN (when its partitions are re-replicated).
struct NodeConcern {
  const NodeSummary* node;
  bool suspect;      // else DOWN
  int64_t down_ms;   // DOWN: for how long
  int64_t replace_in_ms;  // DOWN: until its replacement starts (<= 0: started)
};

std::vector<NodeConcern> Concerns(const ClusterSummary& cluster) {
  // Heartbeats come every second by default: two missed is worth saying.
  constexpr int64_t kSuspectAfterMs = 2000;
  std::vector<NodeConcern> concerns;
  for (const NodeSummary& n : cluster.nodes) {
    const int64_t silent = n.last_heartbeat_ms_ago;
    if (n.node.state == "UP" && silent > kSuspectAfterMs) {
      concerns.push_back({&n, true, 0, 0});
    } else if (n.node.state == "DOWN") {
      const int64_t down = silent < 0 ? -1 : silent - cluster.node_down_after_ms;
      concerns.push_back(
          {&n, false, down,
           down < 0 ? -1 : cluster.replace_after_ms - down});
    }
  }
  return concerns;
}

std::string NodeLabel(const NodeSummary& n) {
  return n.node.name.empty() ? n.node.id
                             : absl::StrCat(n.node.id, " (", n.node.name, ")");
}

absl::Status RunStatus(Context& ctx) {
  ASSIGN_OR_RETURN(ClusterSummary cluster, ctx.client->Nodes());
  std::map<std::string, int> by_state;
  for (const NodeSummary& n : cluster.nodes) ++by_state[n.node.state];
  const std::vector<NodeConcern> concerns = Concerns(cluster);
  const bool healthy = cluster.formed && cluster.under_replicated == 0 &&
                       cluster.misplaced == 0 && !cluster.leader.empty();
  if (ctx.json) {
    std::cout << "{\"epoch\": " << cluster.epoch << ", \"directory_formed\": "
              << (cluster.formed ? "true" : "false")
              << ", \"leader\": " << Json(cluster.leader)
              << ", \"term\": " << cluster.term;
    if (!cluster.leader_problem.empty()) {
      std::cout << ", \"leader_problem\": " << Json(cluster.leader_problem);
    }
    if (!cluster.stale_reason.empty()) {
      std::cout << ", \"answered_by\": " << Json(cluster.answered_by)
                << ", \"stale_reason\": " << Json(cluster.stale_reason);
    }
    std::cout << ", \"nodes\": {";
    bool first = true;
    for (const auto& [state, count] : by_state) {
      std::cout << (first ? "" : ", ") << Json(state) << ": " << count;
      first = false;
    }
    std::cout << "}, \"partitions\": " << cluster.partitions
              << ", \"replication\": " << cluster.replication
              << ", \"under_replicated\": " << cluster.under_replicated
              << ", \"misplaced\": " << cluster.misplaced
              << ", \"moves\": " << cluster.moves
              << ", \"anti_entropy\": " << AntiEntropyJson(cluster);
    std::string suspect, down;
    for (const NodeConcern& c : concerns) {
      std::string& list = c.suspect ? suspect : down;
      absl::StrAppend(&list, list.empty() ? "" : ", ", "{\"id\": ",
                      Json(c.node->node.id), ", \"name\": ",
                      Json(c.node->node.name), ", \"last_heartbeat_ms_ago\": ",
                      c.node->last_heartbeat_ms_ago);
      if (!c.suspect) {
        absl::StrAppend(&list, ", \"down_ms\": ", c.down_ms,
                        ", \"replacement_in_ms\": ", c.replace_in_ms);
      }
      absl::StrAppend(&list, "}");
    }
    std::cout << ", \"suspect\": [" << suspect << "], \"down\": [" << down
              << "]}\n";
  } else {
    std::cout << "leader: "
              << (cluster.leader.empty()
                      ? absl::StrCat("none (", cluster.leader_problem, ")")
                  : cluster.term == 0
                      ? absl::StrCat(cluster.leader, " (the only master)")
                      : absl::StrCat(cluster.leader, ", term ", cluster.term))
              << "\n";
    if (!cluster.stale_reason.empty()) {
      std::cout << "(answered by standby " << cluster.answered_by
                << " from what it follows, without loads: "
                << cluster.stale_reason << ")\n";
    }
    std::cout << "directory: "
              << (cluster.formed ? absl::StrCat("formed, epoch ", cluster.epoch)
                                 : absl::StrCat("not formed (",
                                                cluster.registered_nodes, " of ",
                                                cluster.initial_nodes,
                                                " nodes registered)"))
              << "\nnodes:";
    for (const auto& [state, count] : by_state) {
      std::cout << " " << count << " " << state;
    }
    for (const NodeConcern& c : concerns) {
      if (c.suspect) {
        std::cout << "\n  " << NodeLabel(*c.node) << " is suspect: no heartbeat for "
                  << absl::StrFormat("%.1f", c.node->last_heartbeat_ms_ago / 1000.0)
                  << " s (DOWN after "
                  << cluster.node_down_after_ms / 1000 << " s)";
      } else if (c.down_ms < 0) {
        std::cout << "\n  " << NodeLabel(*c.node)
                  << " is DOWN (not heard from since the master started)";
      } else {
        std::cout << "\n  " << NodeLabel(*c.node) << " is DOWN for "
                  << c.down_ms / 1000 << " s: "
                  << (c.replace_in_ms > 0
                          ? absl::StrCat("replacement in ",
                                         (c.replace_in_ms + 999) / 1000, " s")
                          : std::string("its partitions are being re-replicated"));
      }
    }
    std::cout << "\npartitions: " << cluster.partitions << ", N="
              << cluster.replication << ", " << cluster.under_replicated
              << " under-replicated, " << cluster.misplaced
              << " misplaced\nmoves in flight: " << cluster.moves
              << "\n" << AntiEntropyLine(cluster)
              << (!healthy ? "NOT healthy"
                  : std::any_of(concerns.begin(), concerns.end(),
                                [](const NodeConcern& c) { return c.suspect; })
                      ? "healthy, with a suspect node (see above)"
                      : "healthy")
              << "\n";
  }
  if (healthy) return absl::OkStatus();
  return absl::UnavailableError(
      cluster.leader.empty()
          ? absl::StrCat("no master leads: ", cluster.leader_problem,
                         "; nothing changes the directory until one does "
                         "(data requests go on)")
      : !cluster.formed ? "the directory is not formed"
      : cluster.under_replicated > 0
          ? absl::StrCat(cluster.under_replicated,
                         " partition(s) lack N full replicas on UP nodes")
          : absl::StrCat(cluster.misplaced,
                         " partition(s) span fewer racks than they should "
                         "(misplaced; the master is moving them back)"));
}

absl::Status RunMasters(Context& ctx) {
  const MasterList list = ctx.client->Masters();
  if (ctx.json) {
    std::cout << "{\"leader\": " << Json(list.leader)
              << ", \"term\": " << list.term << ", \"masters\": [";
    for (size_t i = 0; i < list.masters.size(); ++i) {
      const MasterRole& m = list.masters[i];
      std::cout << (i ? ", " : "") << "{\"address\": " << Json(m.address)
                << ", \"role\": " << Json(m.role) << ", \"term\": " << m.term;
      if (!m.problem.empty()) std::cout << ", \"problem\": " << Json(m.problem);
      std::cout << "}";
    }
    std::cout << "]}\n";
  } else {
    std::cout << absl::StrFormat("%-22s %-12s %-8s %s\n", "MASTER", "ROLE",
                                 "TERM", "NOTE");
    for (const MasterRole& m : list.masters) {
      std::cout << absl::StrFormat("%-22s %-12s %-8d %s\n", m.address, m.role,
                                   m.term, m.problem);
    }
  }
  if (!list.leader.empty()) return absl::OkStatus();
  std::string why;
  for (const MasterRole& m : list.masters) {
    if (!m.problem.empty()) {
      why = absl::StrCat(m.address, ": ", m.problem);
      break;
    }
  }
  return absl::UnavailableError(absl::StrCat(
      "no master leads", why.empty() ? "" : absl::StrCat(" (", why, ")")));
}

const Command kCommands[] = {
    {"put", "put [--ttl=DURATION] KEY VALUE",
     "store VALUE under KEY (VALUE - reads stdin); --ttl: it expires then",
     2, RunPut, {"--ttl="}},
    {"get", "get [--from=NODE_ID] KEY",
     "print KEY's value bytes to stdout (--from: that replica's own copy, "
     "no quorum, no repair)",
     1, RunGet, {"--from="}},
    {"del", "del KEY...", "delete each KEY", 1, RunDel, {}, true},
    {"mget", "mget KEY...",
     "each KEY's value (one line each: KEY, tab, value); exit 1 when one is "
     "missing",
     1, RunMget, {}, true},
    {"mput", "mput KEY VALUE [KEY VALUE...]", "store each VALUE under its KEY",
     2, RunMput, {}, true},
    {"expire", "expire KEY DURATION",
     "KEY expires DURATION from now (like 30s); exit 1 when it has no value",
     2, RunExpire},
    {"persist", "persist KEY", "clear KEY's expiry; exit 1 when it has no value",
     1, RunPersist},
    {"ttl", "ttl KEY", "time KEY has left, or \"no expiry\"", 1, RunTtl},
    {"scan", "scan [--prefix=P] [--limit=N] [--cursor=C] [--keys-only]",
     "every live key (KEY, tab, value per line); --limit: one page, and the "
     "cursor to go on",
     0, RunScan, {"--prefix=", "--limit=", "--cursor=", "--keys-only"}},
    {"cas", "cas KEY VALUE --if-version=V|--if-absent|--if-value=BYTES",
     "store VALUE if the condition holds (linearizable); exit 5 when it "
     "does not",
     2, RunCas, {"--if-version=", "--if-absent", "--if-value=", "--ttl="}},
    {"incr", "incr KEY [DELTA]",
     "add DELTA (default 1) to KEY's integer value (linearizable); print it",
     1, RunIncr, {}, true},
    {"export", "export [--prefix=P]",
     "write every live key as JSON lines to stdout (a backup)", 0, RunExport,
     {"--prefix="}},
    {"import", "import",
     "restore JSON lines from stdin, versions kept (never overwrites a "
     "newer row)",
     0, RunImport},
    {"where", "where KEY", "show KEY's partition, epoch and replicas", 1,
     RunWhere},
    {"nodes", "nodes [--wide]",
     "every node by rack with its state and load (--wide: every column)", 0,
     RunNodes, {"--wide"}},
    {"status", "status",
     "cluster health; exit 0 when every partition has N replicas UP and "
     "none is misplaced, else 3",
     0, RunStatus},
    {"moves", "moves",
     "the partition moves in flight, and those that ended in the last 10 "
     "minutes",
     0, RunMoves},
    {"hot", "hot",
     "the cluster's hottest keys and partitions (requests/s) with their "
     "replicas",
     0, RunHot},
    {"masters", "masters",
     "each master's role (leader, standby, unreachable) and term; exit 3 "
     "when none leads",
     0, RunMasters},
    {"plan", "plan", "print the moves the master would start now", 0, RunPlan},
    {"decommission", "decommission [--dry-run] [--wait] NODE_ID",
     "drain NODE_ID, then mark it REMOVED", 1, RunDecommission,
     {"--dry-run", "--wait"}},
};

// `{"error": {"code": "NOT_FOUND", "message": "..."}}`, what --json
// prints for a failure.
std::string ErrorJson(absl::StatusCode code, absl::string_view message) {
  return absl::StrCat("{\"error\": {\"code\": ",
                      Json(absl::StatusCodeToString(code)),
                      ", \"message\": ", Json(message), "}}");
}

// Examples of each command, for `kvcli help COMMAND` and `COMMAND --help`.
const std::map<absl::string_view, const char*>& Examples() {
  static const auto* examples = new std::map<absl::string_view, const char*>{
      {"put", "kvcli put greeting hello\n"
              "  kvcli put --ttl=30s session abc\n"
              "  echo -n 'from stdin' | kvcli put note -\n"
              "  kvcli --w=3 put k v"},
      {"get", "kvcli get greeting\n"
              "  kvcli --json get greeting      # value in base64\n"
              "  kvcli get --from=NODE_ID greeting"},
      {"del", "kvcli del greeting\n  kvcli del a b c"},
      {"mget", "kvcli mget a b c\n  kvcli --json mget a b"},
      {"mput", "kvcli mput a 1 b 2"},
      {"expire", "kvcli expire session 30s"},
      {"persist", "kvcli persist session"},
      {"ttl", "kvcli ttl session\n  kvcli --json ttl session"},
      {"scan", "kvcli scan\n"
               "  kvcli scan --prefix=user/ --keys-only\n"
               "  kvcli --json scan --limit=100 --cursor=CURSOR"},
      {"cas", "kvcli cas lock/job me --if-absent\n"
              "  kvcli cas lock/job you --if-value=me\n"
              "  kvcli cas lock/job x --if-version=1796660000000.0@a1b2c3"},
      {"incr", "kvcli incr counter/visits\n  kvcli incr counter/visits -5"},
      {"export", "kvcli export > backup.jsonl\n"
                 "  kvcli export --prefix=user/ > users.jsonl"},
      {"import", "kvcli --master=NEW:7000 import < backup.jsonl"},
      {"where", "kvcli where greeting\n  kvcli --json where greeting"},
      {"nodes", "kvcli nodes\n  kvcli --json nodes"},
      {"status", "kvcli status; echo $?     # 0 healthy, 3 not"},
      {"moves", "kvcli moves"},
      {"hot", "kvcli hot\n  kvcli --json hot"},
      {"masters", "kvcli --master=m1:7000,m2:7000 masters"},
      {"plan", "kvcli plan"},
      {"decommission", "kvcli decommission --dry-run NODE_ID\n"
                       "  kvcli decommission --wait NODE_ID"},
  };
  return *examples;
}

std::string CommandHelp(const Command& command) {
  std::string help = absl::StrCat("usage: kvcli [global flags] ", command.usage,
                                  "\n\n", command.description, "\n");
  auto it = Examples().find(command.name);
  if (it != Examples().end()) {
    absl::StrAppend(&help, "\nexamples:\n  ", it->second, "\n");
  }
  absl::StrAppend(&help,
                  "\nglobal flags and exit codes: kvcli --help; every "
                  "command, its JSON and exit codes: docs/operations.md\n");
  return help;
}

std::string CommandNames() {
  std::string names;
  for (const Command& c : kCommands) {
    absl::StrAppend(&names, names.empty() ? "" : ", ", c.name);
  }
  return names;
}

std::string Usage() {
  std::string usage =
      "usage: kvcli [--master=HOST:PORT[,...]] [--mode=iterative|recursive] "
      "[--w=N] [--r=N] [--timeout=5s] [--json] [--tls_dir=DIR] "
      "[--token_file=FILE] COMMAND ...\n\ncommands:\n";
  for (const Command& c : kCommands) {
    absl::StrAppendFormat(&usage, "  %-42s %s\n", c.usage, c.description);
  }
  absl::StrAppendFormat(&usage, "  %-42s %s\n  %-42s %s\n", "version",
                        "print kvcli's version", "help",
                        "print this (also -h, --help)");
  absl::StrAppend(
      &usage,
      "\nW and R default to a majority of the N replicas (N/2+1).\n"
      "environment:\n"
      "  KV_MASTER    the master(s) when --master is not given (default "
      "127.0.0.1:7000)\n"
      "  KV_TLS_DIR   the TLS directory when --tls_dir is not given\n"
      "  KV_TOKEN     the token itself when --token_file is not given\n"
      "\n'kvcli help COMMAND' or 'kvcli COMMAND --help': that command's "
      "usage and examples\n"
      "\nexit codes: 0 ok, 1 key not found, 2 bad usage, 3 "
      "unavailable, 4 other error, 5 condition did not hold\n");
  return usage;
}

int ExitCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return 0;
    case absl::StatusCode::kNotFound: return 1;
    case absl::StatusCode::kInvalidArgument: return 2;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded: return 3;
    case absl::StatusCode::kAborted: return 5;  // ConditionFailed()
    default: return 4;
  }
}

bool IsCommandOption(absl::string_view arg) {
  for (const Command& c : kCommands) {
    if (AnyMatches(c.options, arg)) return true;
  }
  return false;
}

absl::StatusOr<ClientOptions> OptionsFromFlags() {
  ClientOptions options;
  options.master = absl::GetFlag(FLAGS_master);
  if (options.master.empty()) {
    const char* env = std::getenv("KV_MASTER");
    options.master = env != nullptr && *env ? env : "127.0.0.1:7000";
  }
  ASSIGN_OR_RETURN(options.mode, ParseQueryMode(absl::GetFlag(FLAGS_mode)));
  options.timeout = absl::GetFlag(FLAGS_timeout);
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--timeout must be positive");
  }
  ASSIGN_OR_RETURN(options.token, ClientToken(absl::GetFlag(FLAGS_token_file)));
  options.tls_dir = ClientTlsDir(absl::GetFlag(FLAGS_tls_dir));
  return options;
}

// Unset means the cluster default (0 to the SDK); a value given must be
// 1..N, whatever it is.
absl::StatusOr<int> QuorumFlag(const char* name, std::optional<int> given,
                               Client& client) {
  if (!given) return 0;
  const int value = *given;
  if (value < 1) {
    // Named with N like a value above N is, when the master can say it.
    auto n = client.ReplicationFactor();
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, "=", value, " is outside 1..N",
        n.ok() ? absl::StrCat(" (N=", *n, ")") : ""));
  }
  return value;
}

const Command* FindCommand(absl::string_view name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

// Edit distance (insertions, deletions, substitutions) of two short words.
size_t Distance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "did you mean 'nodes'?" for a mistyped command, or "".
std::string Suggestion(absl::string_view typed) {
  const char* best = nullptr;
  size_t best_distance = 3;  // more than two edits away: no guess
  for (const Command& c : kCommands) {
    const size_t d = Distance(typed, c.name);
    if (d < best_distance) {
      best = c.name;
      best_distance = d;
    }
  }
  return best == nullptr ? "" : absl::StrCat("did you mean '", best, "'? ");
}

absl::Status Run(int argc, char** argv, bool* answered) {
  ASSIGN_OR_RETURN(std::vector<std::string> args,
                   ParseFlags(argc, argv, "kvcli", IsCommandOption));
  if (args.empty()) {
    std::cout << Usage();
    return absl::InvalidArgumentError("no command given (the usage is above)");
  }
  // Commands that need no cluster.
  if (args[0] == "help" && args.size() == 1) {
    std::cout << Usage();
    return absl::OkStatus();
  }
  if (args[0] == "help" && args.size() == 2) {
    const Command* topic = FindCommand(args[1]);
    if (topic == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "no command '", args[1], "' (", Suggestion(args[1]),
          "commands: ", CommandNames(), ")"));
    }
    std::cout << CommandHelp(*topic);
    return absl::OkStatus();
  }
  if (args[0] == "version" && args.size() == 1) {
    std::cout << VersionLine("kvcli") << "\n";
    return absl::OkStatus();
  }
  const Command* command = FindCommand(args[0]);
  if (command == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown command '", args[0], "' (", Suggestion(args[0]),
        "commands: ", CommandNames(), ", version, help; see kvcli --help)"));
  }
  Context ctx;
  for (size_t i = 1; i < args.size(); ++i) {
    if (AnyMatches(command->options, args[i])) {
      if (args[i].find('=') == std::string::npos &&
          AnyMatches(command->options, args[i] + "=")) {
        // "--from NODE_ID": the value is the next argument.
        if (i + 1 == args.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat(args[i], " needs a value (usage: kvcli ",
                           command->usage, ")"));
        }
        ctx.options.push_back(absl::StrCat(args[i], "=", args[i + 1]));
        ++i;
        continue;
      }
      ctx.options.push_back(args[i]);
    } else if (IsCommandOption(args[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          args[i], " is not an option of ", command->name,
          " (usage: kvcli ", command->usage, ")"));
    } else {
      ctx.args.push_back(args[i]);
    }
  }
  if (ctx.args.size() < command->args ||
      (!command->more && ctx.args.size() != command->args)) {
    return absl::InvalidArgumentError(
        absl::StrCat("usage: kvcli ", command->usage));
  }
  ctx.timeout = absl::GetFlag(FLAGS_timeout);
  ctx.json = absl::GetFlag(FLAGS_json);
  ASSIGN_OR_RETURN(ClientOptions options, OptionsFromFlags());
  ASSIGN_OR_RETURN(std::unique_ptr<Client> client, Client::Create(options));
  ASSIGN_OR_RETURN(ctx.request.w,
                   QuorumFlag("w", absl::GetFlag(FLAGS_w), *client));
  ASSIGN_OR_RETURN(ctx.request.r,
                   QuorumFlag("r", absl::GetFlag(FLAGS_r), *client));
  ctx.client = client.get();
  absl::Status status = command->run(ctx);
  *answered = ctx.answered;
  const absl::string_view name = command->name;
  const bool writes = name == "put" || name == "del" || name == "expire" ||
                      name == "persist" || name == "mput" || name == "cas" ||
                      name == "incr" || name == "import";
  if (std::optional<QuorumFailure> quorum = GetQuorumFailure(status);
      quorum && writes) {
    // The user must know whether the write may have happened.
    return Prepend(
        status,
        !quorum->attempted ? absl::StrCat(command->name, ": not written")
        : quorum->unanswered
            ? absl::StrCat(command->name,
                           ": may have been written (sent, no answer in time)")
            : absl::StrCat(command->name, ": may have been written on ",
                           quorum->acknowledged, " of ", quorum->replicas));
  }
  return Prepend(status, command->name);
}

}  // namespace
}  // namespace quorumkv

int main(int argc, char** argv) {
  // --help after a command is that command's help ("kvcli put --help").
  const quorumkv::Command* command = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (command == nullptr) command = quorumkv::FindCommand(arg);
    if (arg == "--help" || arg == "-h") {
      std::cout << (command != nullptr ? quorumkv::CommandHelp(*command)
                                       : quorumkv::Usage());
      return 0;
    }
    if (arg == "--version") {
      std::cout << quorumkv::VersionLine("kvcli") << "\n";
      return 0;
    }
  }
  // Every failure is one line of ours, with gRPC's reason in it.
  quorumkv::DropGrpcLog();
  bool answered = false;
  absl::Status status = quorumkv::Run(argc, argv, &answered);
  if (!status.ok()) {
    std::string message(status.message());
    if (absl::EndsWith(message, "\n")) message.pop_back();
    std::cerr << "kvcli: " << message << "\n";
    if (absl::GetFlag(FLAGS_json) && !answered) {
      // With --json every outcome is one JSON object on standard output.
      std::cout << quorumkv::ErrorJson(status.code(), message) << "\n";
    }
  }
  std::cout.flush();
  quorumkv::ExitProcess(quorumkv::ExitCode(status));
}
