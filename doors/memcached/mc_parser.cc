#include "doors/memcached/mc_parser.h"

#include <cstdint>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace quorumkv {
namespace {

constexpr absl::string_view kBadFormat = "CLIENT_ERROR bad command line format";
constexpr absl::string_view kBadExptime = "CLIENT_ERROR invalid exptime argument";
constexpr absl::string_view kGenericFlagError =
    "CLIENT_ERROR invalid or duplicate flag";
// memcached's meta commands take at most this many tokens, the command and
// key included, plus one (its tokenizer counts an end marker).
constexpr size_t kMaxMetaTokens = 20;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
         c == '\r';
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A number as memcached reads one (strtoull's rules): leading whitespace,
// a sign, decimal digits, then the end or whitespace, after which anything
// is ignored. False when there are no digits or they overflow 64 bits.
bool ParseSigned(absl::string_view text, bool* negative, uint64_t* magnitude) {
  size_t i = 0;
  while (i < text.size() && IsSpace(text[i])) ++i;
  *negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    *negative = text[i] == '-';
    ++i;
  }
  const size_t first = i;
  uint64_t value = 0;
  for (; i < text.size() && IsDigit(text[i]); ++i) {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  if (i == first) return false;
  if (i < text.size() && !IsSpace(text[i])) return false;
  *magnitude = value;
  return true;
}

bool ParseU32(absl::string_view text, uint32_t* value) {
  uint64_t wide = 0;
  if (!ParseMcNumber(text, &wide) ||
      wide > std::numeric_limits<uint32_t>::max()) {
    return false;
  }
  *value = static_cast<uint32_t>(wide);
  return true;
}

bool ParseI32(absl::string_view text, int32_t* value) {
  bool negative = false;
  uint64_t magnitude = 0;
  if (!ParseSigned(text, &negative, &magnitude)) return false;
  constexpr uint64_t kMax = std::numeric_limits<int32_t>::max();
  if (magnitude > kMax + (negative ? 1 : 0)) return false;
  *value = negative ? static_cast<int32_t>(-static_cast<int64_t>(magnitude))
                    : static_cast<int32_t>(magnitude);
  return true;
}

// memcached splits a command line at spaces only (a tab is part of a
// token).
std::vector<absl::string_view> Tokens(absl::string_view line) {
  std::vector<absl::string_view> tokens;
  size_t at = 0;
  while (at < line.size()) {
    if (line[at] == ' ') {
      ++at;
      continue;
    }
    size_t end = line.find(' ', at);
    if (end == absl::string_view::npos) end = line.size();
    tokens.push_back(line.substr(at, end - at));
    at = end;
  }
  return tokens;
}

// The longest line allowed for the line starting `start`: decided on its
// first kMcMaxLineBytes bytes only, so that a line and any prefix of it
// agree.
size_t LineLimit(absl::string_view start) {
  const absl::string_view head = start.substr(0, kMcMaxLineBytes);
  const size_t first = head.find_first_not_of(' ');
  if (first == absl::string_view::npos) return kMcMaxLineBytes;
  const size_t end = head.find(' ', first);
  if (end == absl::string_view::npos) return kMcMaxLineBytes;
  const absl::string_view command = head.substr(first, end - first);
  return command == "get" || command == "gets" ? kMcMaxRetrievalLineBytes
                                               : kMcMaxLineBytes;
}

McParse NeedMore(size_t need, bool line_end_will_do) {
  McParse parse;
  parse.kind = McParse::kNeedMore;
  parse.need = need;
  parse.line_end_will_do = line_end_will_do;
  return parse;
}

McParse LineTooLong(size_t bytes) {
  McParse parse;
  parse.kind = McParse::kError;
  parse.bytes = bytes;
  parse.reply = "CLIENT_ERROR line too long\r\n";
  parse.close = true;
  return parse;
}

// Parses one complete command line (and its data block) into a request.
class LineParser {
 public:
  LineParser(absl::string_view input, size_t line_bytes,
             std::vector<absl::string_view> tokens, McRequest* out)
      : input_(input),
        line_bytes_(line_bytes),
        tokens_(std::move(tokens)),
        out_(out) {}

  McParse Parse() {
    if (tokens_.empty() || tokens_[0].size() < 2) return Unknown();
    const absl::string_view name = tokens_[0];
    if (name.size() == 2 && name[0] == 'm') {
      switch (name[1]) {
        case 'g': return MetaGet();
        case 's': return MetaSet();
        case 'd': return MetaDelete();
        case 'a': return MetaArithmetic();
        case 'n': return Ok(McCommand::kMetaNoop, line_bytes_);
        default: return Unknown();
      }
    }
    if (name == "get") return Retrieval(McCommand::kGet);
    if (name == "gets") return Retrieval(McCommand::kGets);
    if (name == "gat") return Retrieval(McCommand::kGat);
    if (name == "gats") return Retrieval(McCommand::kGats);
    if (name == "set") return Storage(McCommand::kSet);
    if (name == "add") return Storage(McCommand::kAdd);
    if (name == "replace") return Storage(McCommand::kReplace);
    if (name == "append") return Storage(McCommand::kAppend);
    if (name == "prepend") return Storage(McCommand::kPrepend);
    if (name == "cas") return Storage(McCommand::kCas);
    if (name == "delete") return Delete();
    if (name == "incr") return Arithmetic(McCommand::kIncr);
    if (name == "decr") return Arithmetic(McCommand::kDecr);
    if (name == "touch") return Touch();
    if (name == "version") return Ok(McCommand::kVersion, line_bytes_);
    if (name == "quit") return Ok(McCommand::kQuit, line_bytes_);
    if (name == "stats") return Stats();
    if (name == "verbosity") return Verbosity();
    if (name == "flush_all") return FlushAll();
    return Unknown();
  }

 private:
  McParse Ok(McCommand command, size_t bytes) {
    out_->command = command;
    McParse parse;
    parse.kind = McParse::kOk;
    parse.bytes = bytes;
    return parse;
  }

  // An error reply; `silenced` by the command's noreply.
  McParse Fail(absl::string_view message, bool silenced = false,
               size_t bytes = 0, uint64_t swallow = 0) {
    McParse parse;
    parse.kind = McParse::kError;
    parse.bytes = bytes == 0 ? line_bytes_ : bytes;
    if (!silenced) parse.reply = absl::StrCat(message, "\r\n");
    parse.swallow = swallow;
    parse.command = command_;
    return parse;
  }

  // An unknown command, or a known one with a wrong number of arguments.
  McParse Unknown() { return Fail("ERROR"); }

  size_t count() const { return tokens_.size(); }
  bool LastIsNoreply() const { return tokens_.back() == "noreply"; }

  // The data block of `bytes` after the command line.
  McParse Data(McCommand command, size_t bytes, bool silenced) {
    const size_t total = line_bytes_ + bytes + 2;
    if (input_.size() < total) return NeedMore(total, false);
    if (input_.substr(line_bytes_ + bytes, 2) != "\r\n") {
      return Fail("CLIENT_ERROR bad data chunk", silenced, total);
    }
    out_->data = std::string(input_.substr(line_bytes_, bytes));
    return Ok(command, total);
  }

  McParse Retrieval(McCommand command) {
    command_ = McCommandName(command);
    if (count() < 2) return Unknown();
    size_t first = 1;
    if (command == McCommand::kGat || command == McCommand::kGats) {
      if (!ParseI32(tokens_[1], &out_->exptime)) return Fail(kBadExptime);
      first = 2;
    }
    for (size_t i = first; i < count(); ++i) {
      if (!IsValidMcKey(tokens_[i])) return Fail(kBadFormat);
    }
    for (size_t i = first; i < count(); ++i) out_->keys.emplace_back(tokens_[i]);
    return Ok(command, line_bytes_);
  }

  McParse Storage(McCommand command) {
    command_ = McCommandName(command);
    const bool cas = command == McCommand::kCas;
    const size_t args = cas ? 6 : 5;
    if (count() != args && count() != args + 1) return Unknown();
    const bool noreply = LastIsNoreply();
    if (!IsValidMcKey(tokens_[1])) return Fail(kBadFormat, noreply);
    int32_t bytes = 0;
    if (!ParseU32(tokens_[2], &out_->flags) ||
        !ParseI32(tokens_[3], &out_->exptime) ||
        !ParseI32(tokens_[4], &bytes) ||
        (cas && !ParseMcNumber(tokens_[5], &out_->cas_unique)) ||
        bytes < 0 || bytes > std::numeric_limits<int32_t>::max() - 2) {
      return Fail(kBadFormat, noreply);
    }
    if (static_cast<size_t>(bytes) > kMcMaxDataBytes) {
      return Fail("SERVER_ERROR object too large for cache", noreply,
                  line_bytes_, static_cast<uint64_t>(bytes) + 2);
    }
    out_->keys.emplace_back(tokens_[1]);
    out_->noreply = noreply;
    return Data(command, static_cast<size_t>(bytes), noreply);
  }

  McParse Delete() {
    command_ = "delete";
    if (count() < 2 || count() > 4) return Unknown();
    bool noreply = false;
    if (count() > 2) {
      // `delete KEY 0` is the old form with a hold time of 0.
      const bool hold_is_zero = tokens_[2] == "0";
      noreply = LastIsNoreply();
      const bool valid = (count() == 3 && (hold_is_zero || noreply)) ||
                         (count() == 4 && hold_is_zero && noreply);
      if (!valid) {
        return Fail(
            "CLIENT_ERROR bad command line format.  "
            "Usage: delete <key> [noreply]",
            noreply);
      }
    }
    if (!IsValidMcKey(tokens_[1])) return Fail(kBadFormat, noreply);
    out_->keys.emplace_back(tokens_[1]);
    out_->noreply = noreply;
    return Ok(McCommand::kDelete, line_bytes_);
  }

  McParse Arithmetic(McCommand command) {
    command_ = McCommandName(command);
    if (count() != 3 && count() != 4) return Unknown();
    const bool noreply = LastIsNoreply();
    if (!IsValidMcKey(tokens_[1])) return Fail(kBadFormat, noreply);
    if (!ParseMcNumber(tokens_[2], &out_->delta)) {
      return Fail("CLIENT_ERROR invalid numeric delta argument", noreply);
    }
    out_->keys.emplace_back(tokens_[1]);
    out_->noreply = noreply;
    return Ok(command, line_bytes_);
  }

  McParse Touch() {
    command_ = "touch";
    if (count() != 3 && count() != 4) return Unknown();
    const bool noreply = LastIsNoreply();
    if (!IsValidMcKey(tokens_[1])) return Fail(kBadFormat, noreply);
    if (!ParseI32(tokens_[2], &out_->exptime)) return Fail(kBadExptime, noreply);
    out_->keys.emplace_back(tokens_[1]);
    out_->noreply = noreply;
    return Ok(McCommand::kTouch, line_bytes_);
  }

  McParse Stats() {
    for (size_t i = 1; i < count(); ++i) out_->args.emplace_back(tokens_[i]);
    return Ok(McCommand::kStats, line_bytes_);
  }

  McParse Verbosity() {
    command_ = "verbosity";
    if (count() != 2 && count() != 3) return Unknown();
    const bool noreply = LastIsNoreply();
    uint32_t level = 0;
    if (!ParseU32(tokens_[1], &level)) return Fail(kBadFormat, noreply);
    out_->noreply = noreply;
    return Ok(McCommand::kVerbosity, line_bytes_);
  }

  McParse FlushAll() {
    command_ = "flush_all";
    if (count() > 3) return Unknown();
    const bool noreply = LastIsNoreply();
    if (count() != (noreply ? 2u : 1u) &&
        !ParseI32(tokens_[1], &out_->exptime)) {
      return Fail(kBadExptime, noreply);
    }
    out_->noreply = noreply;
    return Ok(McCommand::kFlushAll, line_bytes_);
  }

  // Reads the meta flags from token `first` on into out_->meta, as
  // memcached does: an unknown or repeated flag stops at once, a bad
  // number is reported once every flag has been read. False with the
  // error line in `*error`.
  bool MetaFlags(size_t first, std::string* error) {
    McMeta& meta = out_->meta;
    bool seen[128] = {};
    absl::string_view failure = kBadFormat;
    bool failed = false;
    for (size_t i = first; i < count(); ++i) {
      const absl::string_view token = tokens_[i];
      const unsigned char flag = static_cast<unsigned char>(token[0]);
      if (flag >= 127 || seen[flag]) {
        *error = "CLIENT_ERROR duplicate flag";
        return false;
      }
      seen[flag] = true;
      const absl::string_view arg = token.substr(1);
      int32_t unused = 0;
      switch (flag) {
        case 'b': case 'c': case 'f': case 'h': case 'I': case 'k':
        case 'l': case 'L': case 'O': case 'P': case 's': case 't':
        case 'u':
          break;
        case 'q':
          meta.quiet = true;
          break;
        case 'v':
          meta.value = true;
          break;
        case 'N':
          meta.has_vivify = ParseI32(arg, &meta.vivify_ttl);
          if (!meta.has_vivify) {
            failure = "CLIENT_ERROR bad token in command line format";
            failed = true;
          }
          break;
        case 'T':
          meta.has_ttl = ParseI32(arg, &meta.ttl);
          if (!meta.has_ttl) {
            failure = "CLIENT_ERROR bad token in command line format";
            failed = true;
          }
          break;
        case 'R':
          if (!ParseI32(arg, &unused)) {
            failure = "CLIENT_ERROR bad token in command line format";
            failed = true;
          }
          break;
        case 'F':
          // memcached keeps the message of an earlier failure here.
          if (!ParseU32(arg, &meta.client_flags)) failed = true;
          break;
        case 'C':
          meta.has_cas = ParseMcNumber(arg, &meta.cas);
          if (!meta.has_cas) {
            failure = "CLIENT_ERROR bad token in command line format";
            failed = true;
          }
          break;
        case 'M':
          if (token.size() != 2) {
            failure = "CLIENT_ERROR incorrect length for M token";
            failed = true;
          } else {
            meta.mode = token[1];
          }
          break;
        case 'J':
          if (!ParseMcNumber(arg, &meta.initial)) {
            failure = "CLIENT_ERROR invalid numeric initial value";
            failed = true;
          }
          break;
        case 'D':
          if (!ParseMcNumber(arg, &meta.delta)) {
            failure = "CLIENT_ERROR invalid numeric delta value";
            failed = true;
          }
          break;
        default:
          *error = "CLIENT_ERROR invalid flag";
          return false;
      }
      meta.flags.push_back(McMetaFlag{token[0], std::string(arg)});
    }
    if (failed) *error = std::string(failure);
    return !failed;
  }

  // Whether a flag in `letters` was given (flags the door refuses).
  bool HasFlag(absl::string_view letters) const {
    for (const McMetaFlag& flag : out_->meta.flags) {
      if (letters.find(flag.flag) != absl::string_view::npos) return true;
    }
    return false;
  }

  bool OpaqueTooLong() const {
    for (const McMetaFlag& flag : out_->meta.flags) {
      if (flag.flag == 'O' && flag.token.size() + 1 > kMcMaxOpaqueBytes) {
        return true;
      }
    }
    return false;
  }

  McParse MetaGet() {
    command_ = "mg";
    if (count() < 2) return Unknown();
    if (!IsValidMcKey(tokens_[1])) return Fail(kBadFormat);
    if (count() + 1 > kMaxMetaTokens) {
      return Fail("CLIENT_ERROR options flags are too long");
    }
    std::string error;
    if (!MetaFlags(2, &error)) return Fail(error);
    if (HasFlag("bhlRN")) return Fail("CLIENT_ERROR invalid flag");
    if (OpaqueTooLong()) return Fail("CLIENT_ERROR opaque token too long");
    out_->keys.emplace_back(tokens_[1]);
    return Ok(McCommand::kMetaGet, line_bytes_);
  }

  McParse MetaSet() {
    command_ = "ms";
    if (count() < 2) return Unknown();
    // Refused before the data length is known: the data block is then
    // read as commands, as memcached does.
    if (!IsValidMcKey(tokens_[1]) || count() == 2) return Fail(kBadFormat);
    if (count() + 1 > kMaxMetaTokens) {
      return Fail("CLIENT_ERROR options flags too long");
    }
    int32_t bytes = 0;
    if (!ParseI32(tokens_[2], &bytes) || bytes < 0 ||
        bytes > std::numeric_limits<int32_t>::max() - 2) {
      return Fail(kBadFormat);
    }
    // From here on a refusal swallows the data block.
    const uint64_t swallow = static_cast<uint64_t>(bytes) + 2;
    std::string error;
    if (!MetaFlags(3, &error)) return Fail(error, false, 0, swallow);
    if (HasFlag("b")) return Fail("CLIENT_ERROR invalid flag", false, 0, swallow);
    const char mode = out_->meta.mode;
    if (mode != 0 && mode != 'E' && mode != 'A' && mode != 'P' &&
        mode != 'R' && mode != 'S') {
      return Fail("CLIENT_ERROR invalid mode for ms M token", false, 0,
                  swallow);
    }
    if (OpaqueTooLong()) {
      return Fail("CLIENT_ERROR opaque token too long", false, 0, swallow);
    }
    if (static_cast<size_t>(bytes) > kMcMaxDataBytes) {
      return Fail("SERVER_ERROR object too large for cache", false, 0,
                  swallow);
    }
    out_->keys.emplace_back(tokens_[1]);
    return Data(McCommand::kMetaSet, static_cast<size_t>(bytes), false);
  }

  McParse MetaDelete() {
    command_ = "md";
    if (count() < 2) return Unknown();
    if (!IsValidMcKey(tokens_[1])) return Fail(kBadFormat);
    if (count() + 1 > kMaxMetaTokens) {
      return Fail("CLIENT_ERROR options flags too long");
    }
    std::string error;
    if (!MetaFlags(2, &error) || HasFlag("bI")) return Fail(kGenericFlagError);
    if (OpaqueTooLong()) return Fail("CLIENT_ERROR opaque token too long");
    out_->keys.emplace_back(tokens_[1]);
    return Ok(McCommand::kMetaDelete, line_bytes_);
  }

  McParse MetaArithmetic() {
    command_ = "ma";
    if (count() < 2) return Unknown();
    if (!IsValidMcKey(tokens_[1])) return Fail(kBadFormat);
    if (count() + 1 > kMaxMetaTokens) {
      return Fail("CLIENT_ERROR options flags too long");
    }
    std::string error;
    if (!MetaFlags(2, &error) || HasFlag("b")) return Fail(kGenericFlagError);
    const char mode = out_->meta.mode;
    if (mode != 0 && mode != 'I' && mode != '+' && mode != 'D' &&
        mode != '-') {
      return Fail("CLIENT_ERROR invalid mode for ma M token");
    }
    if (OpaqueTooLong()) return Fail("CLIENT_ERROR opaque token too long");
    out_->keys.emplace_back(tokens_[1]);
    return Ok(McCommand::kMetaArithmetic, line_bytes_);
  }

  const absl::string_view input_;
  const size_t line_bytes_;  // the command line with its "\n"
  const std::vector<absl::string_view> tokens_;
  McRequest* const out_;
  const char* command_ = "unknown";
};

}  // namespace

const char* McCommandName(McCommand command) {
  switch (command) {
    case McCommand::kGet: return "get";
    case McCommand::kGets: return "gets";
    case McCommand::kGat: return "gat";
    case McCommand::kGats: return "gats";
    case McCommand::kSet: return "set";
    case McCommand::kAdd: return "add";
    case McCommand::kReplace: return "replace";
    case McCommand::kAppend: return "append";
    case McCommand::kPrepend: return "prepend";
    case McCommand::kCas: return "cas";
    case McCommand::kDelete: return "delete";
    case McCommand::kIncr: return "incr";
    case McCommand::kDecr: return "decr";
    case McCommand::kTouch: return "touch";
    case McCommand::kVersion: return "version";
    case McCommand::kStats: return "stats";
    case McCommand::kVerbosity: return "verbosity";
    case McCommand::kFlushAll: return "flush_all";
    case McCommand::kQuit: return "quit";
    case McCommand::kMetaGet: return "mg";
    case McCommand::kMetaSet: return "ms";
    case McCommand::kMetaDelete: return "md";
    case McCommand::kMetaArithmetic: return "ma";
    case McCommand::kMetaNoop: return "mn";
  }
  return "unknown";
}

bool operator==(const McMetaFlag& a, const McMetaFlag& b) {
  return a.flag == b.flag && a.token == b.token;
}

bool operator==(const McMeta& a, const McMeta& b) {
  return a.flags == b.flags && a.quiet == b.quiet && a.value == b.value &&
         a.has_ttl == b.has_ttl && a.ttl == b.ttl &&
         a.has_vivify == b.has_vivify && a.vivify_ttl == b.vivify_ttl &&
         a.has_cas == b.has_cas && a.cas == b.cas &&
         a.client_flags == b.client_flags && a.mode == b.mode &&
         a.initial == b.initial && a.delta == b.delta;
}

bool operator==(const McRequest& a, const McRequest& b) {
  return a.command == b.command && a.keys == b.keys && a.flags == b.flags &&
         a.exptime == b.exptime && a.data == b.data &&
         a.cas_unique == b.cas_unique && a.delta == b.delta &&
         a.noreply == b.noreply && a.args == b.args && a.meta == b.meta;
}

bool ParseMcNumber(absl::string_view text, uint64_t* value) {
  bool negative = false;
  uint64_t magnitude = 0;
  if (!ParseSigned(text, &negative, &magnitude)) return false;
  // strtoull would negate; memcached then refuses what turned negative,
  // so of the negative numbers only -0 is left.
  if (negative && magnitude != 0) return false;
  *value = magnitude;
  return true;
}

bool IsValidMcKey(absl::string_view key) {
  if (key.empty() || key.size() > kMcMaxKeyBytes) return false;
  for (const char c : key) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte <= ' ' || byte == 0x7f) return false;
  }
  return true;
}

McParse ParseMcRequest(absl::string_view input, McRequest* out) {
  *out = McRequest();
  const size_t end = input.find('\n');
  if (end == absl::string_view::npos) {
    const size_t limit = LineLimit(input);
    if (input.size() > limit) return LineTooLong(input.size());
    return NeedMore(limit + 1, true);
  }
  if (end > LineLimit(input.substr(0, end))) return LineTooLong(end + 1);
  absl::string_view line = input.substr(0, end);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return LineParser(input, end + 1, Tokens(line), out).Parse();
}

}  // namespace quorumkv
