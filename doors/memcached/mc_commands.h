// What the memcached commands do over the cluster (doors/kv_gateway.h): one
// function per command family turns a parsed request
// (doors/memcached/mc_parser.h) into KvService requests and builds the
// reply memcached 1.6.18 would give. The classic commands and `stats` are
// in mc_commands.cc, the meta commands in mc_meta_commands.cc, flush_all in
// mc_flush_all.cc.
//
//  - Values keep memcached's client flags in the envelope of
//    doors/client_flags.h; a row's cas unique is CasUnique(its version).
//  - set is a plain put (last writer wins, as in memcached); add, replace,
//    append, prepend, cas, incr and decr are read-modify-writes
//    (doors/read_modify_write.h), so none of them loses a concurrent
//    write's effect, and a cas succeeds only on the very row its unique
//    was read from.
//  - An exptime already past (negative, or an absolute time gone by)
//    leaves the key absent, as memcached's immediately expired items are.
//  - A failed KvService call answers "SERVER_ERROR <its message>".
//
// Thread-safe: a command may start on any thread; `done` runs once, on
// any thread (possibly before the call returns), with the whole reply
// ("\r\n" included). A meta command's q flag empties the replies it
// silences; a classic command's noreply is the caller's to apply (it
// silences every reply, errors included).
#ifndef QUORUMKV_DOORS_MEMCACHED_MC_COMMANDS_H_
#define QUORUMKV_DOORS_MEMCACHED_MC_COMMANDS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "doors/kv_gateway.h"
#include "doors/memcached/mc_parser.h"
#include "proto/kv.pb.h"

namespace quorumkv {

// What `stats` reports, under memcached's names; shared by the
// connections of one door. Thread-safe (atomics).
struct McCounters {
  std::atomic<uint64_t> cmd_get{0};     // keys asked for by get, gets, mg
  std::atomic<uint64_t> get_hits{0};
  std::atomic<uint64_t> get_misses{0};
  std::atomic<uint64_t> cmd_set{0};     // storage commands and ms
  std::atomic<uint64_t> cmd_touch{0};   // touch, and keys of gat, gats
  std::atomic<uint64_t> curr_connections{0};
  std::atomic<uint64_t> total_connections{0};
};

// Where the commands run; neither may be null, both must outlive every
// command.
struct McEnv {
  KvGateway* gateway = nullptr;
  McCounters* counters = nullptr;
};

// A command's reply, "\r\n" included.
using McDone = std::function<void(std::string reply)>;

// memcached's cas unique of a row: StableHash (common/hash.h) of its
// version's wall_ms (8 bytes, big-endian), logical (4 bytes, big-endian)
// and node_id, never 0 (0 maps to 1), since memcached gives no item a cas
// of 0. Every node computes the same number for the same row.
uint64_t CasUnique(const Version& version);

// memcached's exptime: 0 never; 1..kMcMaxRelativeExptime seconds from now;
// above that an absolute Unix time in seconds; negative: expired at once.
inline constexpr int64_t kMcMaxRelativeExptime = 30 * 24 * 3600;

struct McExpiry {
  bool expired = false;        // already past: the key must be absent
  int64_t expires_at_ms = 0;   // otherwise: Unix ms, 0 for never
  uint64_t ttl_ms = 0;         // the same from now, 0 for never
};
McExpiry ResolveExptime(int64_t exptime, int64_t now_ms);

// "SERVER_ERROR <message>\r\n", the message kept on one line.
std::string McServerError(const absl::Status& status);

// get, gets, gat, gats: one read per key, side by side ("gat" first sets
// each key's expiry; see mc_commands.cc for why not with a rewrite).
void McRetrieve(McEnv env, McRequest request, McDone done);
// set, add, replace, append, prepend, cas.
void McStore(McEnv env, McRequest request, McDone done);
void McDelete(McEnv env, McRequest request, McDone done);
// incr, decr.
void McArithmetic(McEnv env, McRequest request, McDone done);
void McTouch(McEnv env, McRequest request, McDone done);

// The meta commands and the flags they keep (mc_parser.h refuses the
// others): mg v f c t s k q O T; ms F T C I(ignored) q M O k c;
// md q C O k; ma N J D T M v q t c O k C.
void McMetaGet(McEnv env, McRequest request, McDone done);
void McMetaSet(McEnv env, McRequest request, McDone done);
void McMetaDelete(McEnv env, McRequest request, McDone done);
void McMetaArithmetic(McEnv env, McRequest request, McDone done);

// Deletes every key of the cluster: each partition of the directory is
// scanned page by page, keys only, and each key deleted; "OK" once every
// partition is walked. Keys written meanwhile may survive.
void McFlushAll(KvGateway* gateway, McDone done);

// `stats [ARGS]`: the general statistics (pid, uptime, time, version,
// pointer_size, connections and `counters`), "RESET" for `stats reset`
// (which zeroes the command counters), an empty list for memcached's
// other known groups, "ERROR" for unknown ones.
std::string McStats(McCounters* counters, absl::string_view version,
                    absl::Time started, const std::vector<std::string>& args);

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_MEMCACHED_MC_COMMANDS_H_
