// Reads one memcached text-protocol request from the front of the bytes a
// client sent: a command line (ended by "\r\n" or a lone "\n", as memcached
// accepts) and, for storage commands (set, add, replace, append, prepend,
// cas, ms), the data block after it. Pure: no I/O, fuzzed
// (tests/fuzz/mc_parser_fuzzer.cc).
//
// Errors are memcached 1.6.18's own, in its order of checks, so that a
// client sees the same reply from the door as from a memcached: a wrong
// argument count is "ERROR", a bad key or number "CLIENT_ERROR bad command
// line format", and so on. As in memcached, a classic command's `noreply`
// silences its error too, and a storage command refused before its data
// block is read (a bad key, a bad number) leaves that block to be read as
// the next command line; one refused as too large swallows it.
//
// Differences from memcached, on purpose:
//  - keys with control characters (bytes below 0x21, and 0x7f) are refused
//    like keys over 250 bytes, as the protocol asks;
//  - a command line over 2048 bytes is answered "CLIENT_ERROR line too
//    long" before the connection closes (memcached closes without a word),
//    and decided on its bytes alone, however they arrive; `get` and `gets`
//    lines may be longer (many keys), up to kMcMaxRetrievalLineBytes;
//  - numbers out of their 32-bit range are refused rather than truncated;
//  - meta flags whose semantics the door does not keep (base64 keys `b`,
//    mg's hit and access times `h` `l`, recache and vivify `R` `N`, md's
//    stale marking `I`) are refused as invalid flags.
#ifndef QUORUMKV_DOORS_MEMCACHED_MC_PARSER_H_
#define QUORUMKV_DOORS_MEMCACHED_MC_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/limits.h"
#include "doors/client_flags.h"

namespace quorumkv {

// memcached's key limit.
inline constexpr size_t kMcMaxKeyBytes = 250;
// Longest command line, without its "\n".
inline constexpr size_t kMcMaxLineBytes = 2048;
// Longest `get`/`gets` line: memcached takes multigets of any length; this
// bounds what one request may hold in memory.
inline constexpr size_t kMcMaxRetrievalLineBytes = 1024 * 1024;
// Largest data block: QuorumKV's value limit less the client flags
// envelope (doors/client_flags.h). Larger ones are refused as memcached
// refuses items over its item size.
inline constexpr size_t kMcMaxDataBytes = kMaxValueBytes - kClientFlagsOverhead;
// Longest opaque token of a meta command, its 'O' included.
inline constexpr size_t kMcMaxOpaqueBytes = 32;

enum class McCommand {
  kGet, kGets, kGat, kGats,
  kSet, kAdd, kReplace, kAppend, kPrepend, kCas,
  kDelete, kIncr, kDecr, kTouch,
  kVersion, kStats, kVerbosity, kFlushAll, kQuit,
  kMetaGet, kMetaSet, kMetaDelete, kMetaArithmetic, kMetaNoop,
};

// The command as the protocol spells it ("get", "flush_all", "mg").
const char* McCommandName(McCommand command);

// One flag of a meta command: its letter and what follows it in the token
// ("O123" is {'O', "123"}).
struct McMetaFlag {
  char flag = 0;
  std::string token;
};

// A meta command's flags, checked and decoded.
struct McMeta {
  std::vector<McMetaFlag> flags;  // all of them, in request order
  bool quiet = false;             // q
  bool value = false;             // v
  bool has_ttl = false;           // T
  int32_t ttl = 0;                // T: an exptime
  bool has_vivify = false;        // N
  int32_t vivify_ttl = 0;         // N: an exptime
  bool has_cas = false;           // C
  uint64_t cas = 0;
  uint32_t client_flags = 0;      // F
  char mode = 0;                  // M: its letter; 0 when not given
  uint64_t initial = 0;           // J
  uint64_t delta = 1;             // D
};

struct McRequest {
  McCommand command = McCommand::kGet;
  // The keys it names: one, or any number for get/gets/gat/gats (none for
  // `gat EXPTIME`, which memcached answers END).
  std::vector<std::string> keys;
  uint32_t flags = 0;         // storage commands: the client flags
  int32_t exptime = 0;        // storage, touch, gat/gats; flush_all's delay
  std::string data;           // storage commands and ms: the data block
  uint64_t cas_unique = 0;    // cas
  uint64_t delta = 0;         // incr, decr
  bool noreply = false;       // classic commands: answer nothing
  std::vector<std::string> args;  // stats: its arguments
  McMeta meta;                // meta commands
};

bool operator==(const McMetaFlag& a, const McMetaFlag& b);
bool operator==(const McMeta& a, const McMeta& b);
bool operator==(const McRequest& a, const McRequest& b);

struct McParse {
  enum Kind { kNeedMore, kOk, kError };
  Kind kind = kNeedMore;
  // kOk, kError: bytes to drop from the front of the input (never more
  // than it holds).
  size_t bytes = 0;
  // kNeedMore: the input length below which parsing again gives the same
  // answer (always more than the input held). With `line_end_will_do`
  // the command line is not complete, and a "\n" arriving sooner may
  // change the answer too.
  size_t need = 0;
  bool line_end_will_do = false;
  // kError: the reply, "\r\n" included; empty when `noreply` silences it.
  std::string reply;
  // kError: bytes that follow the dropped ones and must be discarded too,
  // whether they have arrived or not (the data block of a storage command
  // refused after its command line).
  uint64_t swallow = 0;
  // kError: close the connection once the reply is written.
  bool close = false;
  // kError: the command that failed, for metrics ("get", or "unknown").
  const char* command = "unknown";
};

// Parses the request at the front of `input` into `*out` (meaningful with
// kOk only).
McParse ParseMcRequest(absl::string_view input, McRequest* out);

// A decimal unsigned 64-bit number as memcached reads one, in a command
// line or in a stored value (incr, decr): leading whitespace and a '+' are
// taken, and whatever follows whitespace after the digits is ignored.
bool ParseMcNumber(absl::string_view text, uint64_t* value);

// Whether memcached takes `key`: 1..250 bytes, no space or control
// character.
bool IsValidMcKey(absl::string_view key);

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_MEMCACHED_MC_PARSER_H_
