// Fuzzes the memcached door's parser (doors/memcached/mc_parser.h): any
// bytes a client sends give a request, a request for more bytes, or one of
// memcached's error replies, never a crash; what it drops is never more
// than it was given; a request parses the same again from a copy of its
// own bytes, and every shorter prefix of them waits for more; a request
// for more stays one, or turns into an answer, as bytes are appended, and
// gets an answer once as many have come as it asked for.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "doors/memcached/mc_parser.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace quorumkv;

// Appended filler is kept this short: waits for megabytes are checked
// only when the input is already close to them.
constexpr size_t kMaxFiller = 64 * 1024;

// A reply is one line, "\r\n" ended, or nothing (silenced by noreply).
bool OneLine(const std::string& reply) {
  if (reply.empty()) return true;
  return reply.size() >= 2 && reply.compare(reply.size() - 2, 2, "\r\n") == 0 &&
         reply.find('\n') == reply.size() - 1;
}

void CheckRequest(absl::string_view input, const McParse& parsed,
                  const McRequest& request) {
  FuzzCheck(parsed.bytes > 0 && parsed.bytes <= input.size());
  // A fresh copy of exactly its bytes parses to the same request.
  const std::string copy(input.substr(0, parsed.bytes));
  McRequest again;
  const McParse reparsed = ParseMcRequest(copy, &again);
  FuzzCheck(reparsed.kind == McParse::kOk);
  FuzzCheck(reparsed.bytes == parsed.bytes);
  FuzzCheck(again == request);
  // One byte fewer is not yet a request.
  McRequest shorter;
  const McParse cut =
      ParseMcRequest(absl::string_view(copy).substr(0, copy.size() - 1),
                     &shorter);
  FuzzCheck(cut.kind == McParse::kNeedMore);
  for (const std::string& key : request.keys) FuzzCheck(IsValidMcKey(key));
  FuzzCheck(request.data.size() <= kMcMaxDataBytes);
}

void CheckNeedMore(absl::string_view input, const McParse& parsed) {
  FuzzCheck(parsed.need > input.size());
  // Bytes appended never crash it; up to `need` of them, with no line end
  // in an open line, give another answer.
  const size_t target = std::min(parsed.need, input.size() + kMaxFiller);
  std::string more(input);
  more.resize(target, 'x');
  McRequest request;
  const McParse next = ParseMcRequest(more, &request);
  if (target == parsed.need) {
    FuzzCheck(next.kind != McParse::kNeedMore ||
              (parsed.line_end_will_do && next.need > parsed.need));
  } else {
    FuzzCheck(next.kind != McParse::kNeedMore || next.need > target);
  }
  if (next.kind == McParse::kOk) CheckRequest(more, next, request);
  // A line end appended may complete the line instead.
  more.assign(input.data(), input.size());
  more += "\r\n";
  const McParse ended = ParseMcRequest(more, &request);
  FuzzCheck(ended.kind != McParse::kNeedMore || ended.need > more.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  McRequest request;
  const McParse parsed = ParseMcRequest(input, &request);
  switch (parsed.kind) {
    case McParse::kOk:
      CheckRequest(input, parsed, request);
      break;
    case McParse::kError:
      FuzzCheck(parsed.bytes > 0 && parsed.bytes <= size);
      FuzzCheck(OneLine(parsed.reply));
      FuzzCheck(!parsed.close || parsed.swallow == 0);
      break;
    case McParse::kNeedMore:
      CheckNeedMore(input, parsed);
      break;
  }
  return 0;
}
