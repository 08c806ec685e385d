// Reads one Redis command from the front of the bytes a client sent: RESP's
// array of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", what every
// client library sends) or an inline command ("PING\r\n", what telnet and
// redis-benchmark's PING_INLINE send, with Redis's quoting rules). Pure:
// no I/O, fuzzed (tests/fuzz/resp_parser_fuzzer.cc).
//
// Errors are Redis's own protocol errors, after which Redis closes the
// connection; so does the door.
#ifndef QUORUMKV_DOORS_RESP_RESP_PARSER_H_
#define QUORUMKV_DOORS_RESP_RESP_PARSER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace quorumkv {

// The longest bulk string a command may carry: QuorumKV's value limit
// (common/limits.h) with room for memcached's flags envelope. Longer is a
// protocol error, as it is in Redis past proto-max-bulk-len.
size_t MaxRespBulkBytes();
// Longest inline command and longest array a command may be.
inline constexpr size_t kMaxInlineBytes = 64 * 1024;
inline constexpr size_t kMaxRespArgs = 1024 * 1024;

struct RespParse {
  enum Kind { kNeedMore, kCommand, kError };
  Kind kind = kNeedMore;
  // kCommand: bytes the command took (arguments in `args`; an empty
  // inline line gives no arguments, to be skipped). kNeedMore: the total
  // the input must reach before another try can succeed (a lower bound;
  // 0 when unknown).
  size_t bytes = 0;
  // kError: Redis's message, without "-" and "\r\n".
  std::string error;
};

RespParse ParseRespCommand(absl::string_view input,
                           std::vector<std::string>* args);

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_RESP_RESP_PARSER_H_
