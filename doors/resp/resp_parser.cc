#include "doors/resp/resp_parser.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/limits.h"
#include "doors/client_flags.h"

namespace quorumkv {
namespace {

RespParse NeedMore(size_t total) {
  RespParse p;
  p.kind = RespParse::kNeedMore;
  p.bytes = total;
  return p;
}

RespParse Error(std::string message) {
  RespParse p;
  p.kind = RespParse::kError;
  p.error = std::move(message);
  return p;
}

RespParse Command(size_t bytes) {
  RespParse p;
  p.kind = RespParse::kCommand;
  p.bytes = bytes;
  return p;
}

// The line starting at `from`, without its "\r\n"; npos when it has not
// all arrived.
size_t LineEnd(absl::string_view input, size_t from) {
  const size_t cr = input.find("\r\n", from);
  return cr;
}

bool ParseCount(absl::string_view text, int64_t* value) {
  return !text.empty() && absl::SimpleAtoi(text, value);
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Redis's rules for an inline command's arguments: blanks between them;
// "double quotes" with \n \r \t \b \a \\ \" and \xHH escapes; 'single
// quotes' with \' only; a closing quote must end the argument.
bool SplitInline(absl::string_view line, std::vector<std::string>* args) {
  size_t i = 0;
  while (true) {
    while (i < line.size() && absl::ascii_isspace(line[i])) ++i;
    if (i == line.size()) return true;
    std::string arg;
    bool in_double = false, in_single = false;
    while (true) {
      if (in_double) {
        if (i == line.size()) return false;
        if (line[i] == '\\' && i + 3 < line.size() && line[i + 1] == 'x' &&
            HexDigit(line[i + 2]) >= 0 && HexDigit(line[i + 3]) >= 0) {
          arg.push_back(static_cast<char>(HexDigit(line[i + 2]) * 16 +
                                          HexDigit(line[i + 3])));
          i += 4;
        } else if (line[i] == '\\' && i + 1 < line.size()) {
          const char c = line[i + 1];
          arg.push_back(c == 'n'   ? '\n'
                        : c == 'r' ? '\r'
                        : c == 't' ? '\t'
                        : c == 'b' ? '\b'
                        : c == 'a' ? '\a'
                                   : c);
          i += 2;
        } else if (line[i] == '"') {
          ++i;
          if (i < line.size() && !absl::ascii_isspace(line[i])) return false;
          break;
        } else {
          arg.push_back(line[i++]);
        }
      } else if (in_single) {
        if (i == line.size()) return false;
        if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '\'') {
          arg.push_back('\'');
          i += 2;
        } else if (line[i] == '\'') {
          ++i;
          if (i < line.size() && !absl::ascii_isspace(line[i])) return false;
          break;
        } else {
          arg.push_back(line[i++]);
        }
      } else {
        if (i == line.size() || absl::ascii_isspace(line[i])) break;
        if (line[i] == '"') {
          in_double = true;
          ++i;
        } else if (line[i] == '\'') {
          in_single = true;
          ++i;
        } else {
          arg.push_back(line[i++]);
        }
      }
    }
    args->push_back(std::move(arg));
  }
}

RespParse ParseInline(absl::string_view input, std::vector<std::string>* args) {
  const size_t newline = input.find('\n');
  if (newline == absl::string_view::npos) {
    if (input.size() > kMaxInlineBytes) {
      return Error("Protocol error: too big inline request");
    }
    return NeedMore(input.size() + 1);
  }
  absl::string_view line = input.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!SplitInline(line, args)) {
    args->clear();
    return Error("Protocol error: unbalanced quotes in request");
  }
  return Command(newline + 1);
}

RespParse ParseArray(absl::string_view input, std::vector<std::string>* args) {
  size_t end = LineEnd(input, 1);
  if (end == absl::string_view::npos) {
    if (input.size() > kMaxInlineBytes) {
      return Error("Protocol error: too big mbulk count string");
    }
    return NeedMore(input.size() + 1);
  }
  int64_t count = 0;
  if (!ParseCount(input.substr(1, end - 1), &count) ||
      count > static_cast<int64_t>(kMaxRespArgs)) {
    return Error("Protocol error: invalid multibulk length");
  }
  size_t at = end + 2;
  if (count <= 0) return Command(at);  // an empty command: skipped
  args->reserve(static_cast<size_t>(std::min<int64_t>(count, 1024)));
  for (int64_t i = 0; i < count; ++i) {
    if (at >= input.size()) return NeedMore(at + 1);
    if (input[at] != '$') {
      return Error(absl::StrCat("Protocol error: expected '$', got '",
                                absl::string_view(&input[at], 1), "'"));
    }
    end = LineEnd(input, at + 1);
    if (end == absl::string_view::npos) {
      if (input.size() - at > kMaxInlineBytes) {
        return Error("Protocol error: too big bulk count string");
      }
      return NeedMore(input.size() + 1);
    }
    int64_t length = 0;
    if (!ParseCount(input.substr(at + 1, end - at - 1), &length) ||
        length < 0 || static_cast<uint64_t>(length) > MaxRespBulkBytes()) {
      return Error("Protocol error: invalid bulk length");
    }
    const size_t data = end + 2;
    // The data and its "\r\n", which Redis skips without looking.
    const size_t next = data + static_cast<size_t>(length) + 2;
    if (next > input.size()) return NeedMore(next);
    args->emplace_back(input.substr(data, static_cast<size_t>(length)));
    at = next;
  }
  return Command(at);
}

}  // namespace

size_t MaxRespBulkBytes() { return kMaxValueBytes + kClientFlagsOverhead; }

RespParse ParseRespCommand(absl::string_view input,
                           std::vector<std::string>* args) {
  args->clear();
  if (input.empty()) return NeedMore(1);
  RespParse parsed = input[0] == '*' ? ParseArray(input, args)
                                     : ParseInline(input, args);
  if (parsed.kind != RespParse::kCommand) args->clear();
  return parsed;
}

}  // namespace quorumkv
