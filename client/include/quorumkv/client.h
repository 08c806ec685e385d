// QuorumKV C++ client SDK.
//
//   quorumkv::ClientOptions options;
//   options.master = "127.0.0.1:7000";
//   auto client = quorumkv::Client::Create(options);
//   if (!client.ok()) ...;
//   absl::Status s = (*client)->Put("k", "v").status();
//   absl::StatusOr<quorumkv::ReadResult> r = (*client)->Get("k");
//   if (absl::IsNotFound(r.status())) ...;
//
// Iterative mode (default) fetches the cluster's directory from the master
// once, caches it and sends each request straight to a replica of the key,
// refreshing the directory when a node answers WrongNode or cannot be
// reached, and retrying within the request's timeout. It keeps working from
// its cached directory while the master is down. Recursive mode sends every
// request to the master, which relays it.
//
// Errors: INVALID_ARGUMENT (bad key, value, W or R), NOT_FOUND (Get of a
// missing key), UNAVAILABLE (quorum not reached, master or nodes
// unreachable), DEADLINE_EXCEEDED; the message says what failed and why.
//
// Thread safety: a Client is thread-safe; share one per process. The *Async
// calls never block; their callbacks run on a gRPC or client thread, exactly
// once, and must not block. The synchronous calls block the caller and must
// not be made from a callback.
#ifndef QUORUMKV_CLIENT_INCLUDE_QUORUMKV_CLIENT_H_
#define QUORUMKV_CLIENT_INCLUDE_QUORUMKV_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace quorumkv {
namespace internal {
class ClientImpl;
}  // namespace internal

enum class QueryMode { kIterative, kRecursive };

// "iterative" or "recursive"; INVALID_ARGUMENT otherwise.
absl::StatusOr<QueryMode> ParseQueryMode(absl::string_view text);
const char* QueryModeName(QueryMode mode);

struct ClientOptions {
  // host:port of the master, or "host:port,host:port,..." of several
  // (replicated masters: any of them serves; one that does not answer is
  // skipped). INVALID_ARGUMENT for an empty, malformed or repeated one.
  std::string master = "127.0.0.1:7000";
  QueryMode mode = QueryMode::kIterative;
  // Default write and read quorums; 0 means the cluster's (N/2+1).
  int w = 0;
  int r = 0;
  // Default time a request may take, retries included.
  absl::Duration timeout = absl::Seconds(5);
  // Sent as "authorization: Bearer TOKEN" with every call when the cluster
  // needs tokens (--auth_token_file); a missing or wrong one fails calls
  // with UNAUTHENTICATED, a data token on an admin call (Decommission,
  // Plan) with PERMISSION_DENIED. Empty: none sent.
  std::string token;
  // Mutual TLS, for a cluster whose daemons have --tls_dir: a directory
  // holding ca.pem (the CA the servers' certificates must be signed by),
  // cert.pem and key.pem (this client's certificate, signed by a CA the
  // cluster trusts, and its key). Create() reads and checks them
  // (INVALID_ARGUMENT naming the file). Empty: plaintext.
  std::string tls_dir;
};

// Per-request overrides; zero fields take the ClientOptions value.
struct RequestOptions {
  int w = 0;
  int r = 0;
  absl::Duration timeout = absl::ZeroDuration();
  // Put only: the value expires this long after the write (1 ms .. 100
  // years) and is absent on every path from then on, to within the nodes'
  // clock skew. Zero: no expiry (a put clears any earlier one).
  absl::Duration ttl = absl::ZeroDuration();
};
// The options of a write (RequestOptions; `ttl` applies to Put).
using WriteOptions = RequestOptions;

struct WriteResult {
  std::string version;  // "wall_ms.logical@node_id"
  uint32_t acks = 0;    // replicas that had acknowledged (>= W)
  // Delete only: an acknowledging replica held a value, so the key existed.
  bool existed = false;
};

struct ReadResult {
  std::string value;
  std::string version;
  // When the value expires (Unix ms); 0: never.
  int64_t expires_at_ms = 0;
};

// Scan (Client::Scan): every live key once, partition by partition and in
// key order inside one, merged by version from R replicas. Pages are not
// one snapshot: a key written during a scan may or may not appear.
struct ScanOptions {
  // Only keys that start with these bytes.
  std::string prefix;
  // Most keys in the page returned (at least 1).
  size_t limit = 100;
  // Where the previous page stopped (ScanPage::cursor); empty: from the
  // start. INVALID_ARGUMENT for a cursor that is not one of ours, or one
  // from a scan of another prefix.
  std::string cursor;
  // Leave values out.
  bool keys_only = false;
  RequestOptions request;  // r and timeout (per page of one partition)
};

struct ScanItem {
  std::string key;
  std::string value;  // empty with keys_only
  std::string version;
  int64_t expires_at_ms = 0;
};

struct ScanPage {
  std::vector<ScanItem> items;
  // Opaque: pass it to the next call; empty once every key was returned.
  std::string cursor;
};

// A row of a backup (`kvcli export`), restored by Client::Import.
struct ImportRow {
  std::string key;
  std::string value;
  std::string version;        // "wall_ms.logical@node_id"
  int64_t expires_at_ms = 0;  // Unix ms; 0: none
};

// The condition of a CompareAndSet: at most one member set; none makes the
// write unconditional (still linearizable).
struct CasCondition {
  // The key's current version is this one ("wall_ms.logical@node_id").
  std::optional<std::string> if_version;
  // The key has no live value.
  bool if_absent = false;
  // The key's current value is these bytes.
  std::optional<std::string> if_value;
};

struct CasResult {
  // The condition held and the write took effect.
  bool applied = false;
  // The key's value after the call: the one written when applied, the
  // current one otherwise (found false: the key has no live value).
  bool found = false;
  std::string value;
  std::string version;
  int64_t expires_at_ms = 0;
};

struct ReplicaLocation {
  std::string id;
  std::string address;
  std::string rack;
  std::string state;  // "UP", "DOWN", ...
  // What the operator calls the node (its --name, by default the last part
  // of its data dir); may be empty.
  std::string name;
};

struct KeyLocation {
  uint32_t partition = 0;
  uint64_t epoch = 0;
  std::vector<ReplicaLocation> replicas;  // in directory order
  // Replicas joining the partition by a move in flight: they receive
  // writes but count toward no quorum and serve no reads yet.
  std::vector<ReplicaLocation> joining;
};

struct NodeSummary {
  ReplicaLocation node;
  uint32_t partitions = 0;  // full replicas held
  uint32_t joining = 0;     // partitions streaming in
  uint64_t keys = 0;
  uint64_t bytes = 0;
  uint64_t free_bytes = 0;
  double reads_per_sec = 0;
  double writes_per_sec = 0;
  uint64_t pending_hints = 0;
  int64_t last_heartbeat_ms_ago = -1;  // -1: none since the master started
  uint64_t directory_epoch = 0;        // the node's, as of its last heartbeat
  // The node's RAM tier (block and row caches), since it started.
  struct Cache {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t evictions = 0;
    uint64_t bytes = 0;
    uint64_t capacity_bytes = 0;
  } cache;
};

struct ClusterSummary {
  uint64_t epoch = 0;
  bool formed = false;
  uint32_t registered_nodes = 0;
  // The master's --node_down_after and --replace_after (0: not said).
  int64_t node_down_after_ms = 0;
  int64_t replace_after_ms = 0;
  uint32_t initial_nodes = 0;
  uint32_t partitions = 0;
  uint32_t replication = 0;
  // Partitions with fewer than N full replicas on UP nodes.
  uint32_t under_replicated = 0;
  // Partitions whose replicas span fewer racks than placement wants where
  // racks allow (a rack was down when they were repaired); the master
  // moves them back (docs/moves.md).
  uint32_t misplaced = 0;
  uint32_t moves = 0;  // in flight
  // Anti-entropy: partitions compared since the master started, and the
  // age of the oldest comparison (-1 ms while a partition has none).
  uint32_t anti_entropy_compared = 0;
  int64_t anti_entropy_oldest_ms = -1;
  uint64_t anti_entropy_rows_exchanged = 0;
  uint64_t anti_entropy_bytes_exchanged = 0;
  // Partitions that may have diverged (hints lost, a move cancelled),
  // waiting for the comparison they get before any other.
  uint32_t anti_entropy_diverged = 0;
  // The leader and its term (0: the embedded master); empty while there is
  // none, and then `leader_problem` says why.
  std::string leader;
  uint64_t term = 0;
  std::string leader_problem;
  // The master that answered; and, when a standby answered from what it
  // follows because the leader could not be reached, why (loads are then
  // missing).
  std::string answered_by;
  std::string stale_reason;
  std::vector<NodeSummary> nodes;
  // The hottest keys and partitions over the nodes' last heartbeats
  // (requests per second they coordinated), hottest first, at most ten.
  struct HotKeyRate {
    std::string key;
    uint32_t partition = 0;
    double reads_per_sec = 0;
    double writes_per_sec = 0;
  };
  struct HotPartitionRate {
    uint32_t partition = 0;
    double reads_per_sec = 0;
    double writes_per_sec = 0;
    std::vector<std::string> replicas;  // node ids, in directory order
  };
  std::vector<HotKeyRate> hot_keys;
  std::vector<HotPartitionRate> hot_partitions;
};

// A partition moving from one node to another (docs/moves.md).
struct MoveInfo {
  uint32_t partition = 0;
  std::string from;    // empty when the move adds a missing replica
  std::string to;
  std::string reason;  // "replace", "rebalance", "decommission" or "spread"
  std::string state;   // "planned", "streaming" or "switching"
  uint64_t bytes_streamed = 0;
  int64_t started_ms = 0;  // Unix ms; 0 while planned
  // A move that ended (state "done" or "cancelled"): when, and why a
  // cancelled one was.
  int64_t finished_ms = 0;
  std::string why;
};

struct MoveList {
  uint64_t epoch = 0;
  std::vector<MoveInfo> moves;
  // Moves that ended in the last 10 minutes, newest first (Moves() only).
  std::vector<MoveInfo> recent;
};

struct DecommissionResult {
  uint64_t epoch = 0;
  std::vector<MoveInfo> moves;  // what the drain moves, state "planned"
  bool removed = false;         // held nothing: REMOVED at once
};

// A master and its role, as `kvcli masters` shows it.
struct MasterRole {
  std::string address;
  std::string role;  // "leader", "standby" or "unreachable"
  uint64_t term = 0;   // the leader's, as this master knows it
  std::string leader;  // likewise; empty when it knows none
  std::string problem;  // why it knows no leader, or why it did not answer
};

struct MasterList {
  std::string leader;  // empty when no master leads
  uint64_t term = 0;
  std::vector<MasterRole> masters;  // in the order the client was given
};

// Why a request did not reach its quorum, from the status it failed with.
struct QuorumFailure {
  uint32_t acknowledged = 0;  // replicas that acknowledged or answered
  uint32_t required = 0;      // W or R
  uint32_t replicas = 0;      // N
  // Writes: false when the coordinator refused the write before writing
  // anywhere (fewer than W replicas alive): nothing was stored. True when it
  // was sent: it may be stored on some replicas.
  bool attempted = false;
  // No coordinator's count came back (the deadline passed, or the
  // connection broke, before its answer): `acknowledged` is 0 and may be
  // wrong, and `required` and `replicas` may be 0. With `attempted`, the
  // write was sent and may be stored on any replica; without it, it was
  // never sent.
  bool unanswered = false;
};

// The quorum failure `status` reports, if it is one: every UNAVAILABLE or
// DEADLINE_EXCEEDED from Put or Delete (in either mode) carries one, and so
// does any other failure of a write that may have happened; Get's when a
// coordinator counted too few replicas.
std::optional<QuorumFailure> GetQuorumFailure(const absl::Status& status);

class Client {
 public:
  using WriteCallback = std::function<void(absl::StatusOr<WriteResult>)>;
  using ReadCallback = std::function<void(absl::StatusOr<ReadResult>)>;

  // Validates `options`; does not contact the master yet.
  static absl::StatusOr<std::unique_ptr<Client>> Create(
      const ClientOptions& options);
  // Waits for callbacks of requests still in flight.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  absl::StatusOr<WriteResult> Put(absl::string_view key,
                                  absl::string_view value,
                                  const RequestOptions& options = {});
  // NOT_FOUND when the key has no value (never written, or deleted).
  absl::StatusOr<ReadResult> Get(absl::string_view key,
                                 const RequestOptions& options = {});
  // The version node `node_id` stores itself: no quorum, no read repair
  // (for operators and tests that look at one replica). NOT_FOUND when it
  // holds none, or a tombstone (the message says which).
  absl::StatusOr<ReadResult> GetFromReplica(const std::string& node_id,
                                            absl::string_view key,
                                            const RequestOptions& options = {});
  // Succeeds whether or not the key had a value; WriteResult::existed says
  // which.
  absl::StatusOr<WriteResult> Delete(absl::string_view key,
                                     const RequestOptions& options = {});

  // Sets the key's expiry to `ttl` from now (1 ms .. 100 years) without
  // touching its value; `Persist` clears it. The expiry is a
  // last-writer-wins register of its own: it never revives an older value
  // nor overwrites a newer one, and a later Put clears it. Succeeds whether
  // or not the key exists; WriteResult::existed says whether it held a
  // live value (an expiry set on a missing key applies to no value).
  absl::StatusOr<WriteResult> Expire(absl::string_view key, absl::Duration ttl,
                                     const RequestOptions& options = {});
  absl::StatusOr<WriteResult> Persist(absl::string_view key,
                                      const RequestOptions& options = {});

  // Many keys in one call: up to 1024 keys and 16 MiB of keys and values
  // (INVALID_ARGUMENT otherwise, and for any bad key or value: then nothing
  // is sent). Not atomic: one result per key, in the order given, each what
  // Get, Put or Delete of that key alone would have returned. The requests
  // bound for one node travel together on its stream.
  absl::StatusOr<std::vector<absl::StatusOr<ReadResult>>> BatchGet(
      const std::vector<std::string>& keys, const RequestOptions& options = {});
  absl::StatusOr<std::vector<absl::StatusOr<WriteResult>>> BatchPut(
      const std::vector<std::pair<std::string, std::string>>& items,
      const WriteOptions& options = {});
  absl::StatusOr<std::vector<absl::StatusOr<WriteResult>>> BatchDelete(
      const std::vector<std::string>& keys, const RequestOptions& options = {});
  // The same without blocking: `done` runs once, with every key's result or
  // the batch's refusal.
  using BatchReadCallback = std::function<void(
      absl::StatusOr<std::vector<absl::StatusOr<ReadResult>>>)>;
  using BatchWriteCallback = std::function<void(
      absl::StatusOr<std::vector<absl::StatusOr<WriteResult>>>)>;
  void BatchGetAsync(const std::vector<std::string>& keys,
                     const RequestOptions& options, BatchReadCallback done);
  void BatchPutAsync(
      const std::vector<std::pair<std::string, std::string>>& items,
      const WriteOptions& options, BatchWriteCallback done);

  // Restores rows with their versions and expiries, so that a row never
  // overwrites a newer one (a key written since the backup keeps its
  // newer value). Limits and results as BatchPut; a version more than the
  // nodes' clock lead cap (10 s) ahead is refused.
  absl::StatusOr<std::vector<absl::StatusOr<WriteResult>>> Import(
      const std::vector<ImportRow>& rows, const RequestOptions& options = {});

  // One page of a scan of the whole keyspace (ScanOptions). Memory is one
  // page's, whatever the data size.
  absl::StatusOr<ScanPage> Scan(const ScanOptions& options);

  // Linearizable per key: single-decree Paxos among the key's replicas
  // (docs/architecture.md, "Conditional writes"). Only for keys under one
  // of the cluster's linearizable prefixes (the masters'
  // --linearizable_prefixes): FAILED_PRECONDITION otherwise, since plain
  // writes of other keys could break a conditional one (plain writes of
  // keys under those prefixes take the Paxos path themselves).
  //
  // Stores `value` (nullopt: deletes the key) when `condition` holds;
  // CasResult says whether it did, with the current value when not.
  // INVALID_ARGUMENT for a bad key, value, TTL (options.ttl) or a
  // condition with more than one member; UNAVAILABLE or DEADLINE_EXCEEDED
  // when nothing was written; UNKNOWN when the deadline passed after the
  // write was proposed: it may or may not have taken effect.
  absl::StatusOr<CasResult> CompareAndSet(absl::string_view key,
                                          const CasCondition& condition,
                                          std::optional<std::string> value,
                                          const WriteOptions& options = {});
  // Adds `delta` to the key's value, a decimal 64-bit integer (a missing
  // key counts as 0; its expiry, if any, is kept), and returns the result
  // in CasResult::value. INVALID_ARGUMENT, nothing written, when the value
  // is not such an integer or the sum would overflow; otherwise as
  // CompareAndSet.
  absl::StatusOr<CasResult> Increment(absl::string_view key, int64_t delta = 1,
                                      const RequestOptions& options = {});
  using CasCallback = std::function<void(absl::StatusOr<CasResult>)>;
  void IncrementAsync(absl::string_view key, int64_t delta,
                      const RequestOptions& options, CasCallback done);

  void PutAsync(absl::string_view key, absl::string_view value,
                const RequestOptions& options, WriteCallback done);
  void GetAsync(absl::string_view key, const RequestOptions& options,
                ReadCallback done);
  void DeleteAsync(absl::string_view key, const RequestOptions& options,
                   WriteCallback done);
  // Expire (ttl > 0) or Persist (ttl zero).
  void ExpireAsync(absl::string_view key, absl::Duration ttl,
                   const RequestOptions& options, WriteCallback done);

  // Where `key` lives, as the master sees it now.
  absl::StatusOr<KeyLocation> Where(absl::string_view key);
  // Every node with its state and load, as the master sees it now.
  absl::StatusOr<ClusterSummary> Nodes();
  // The moves in flight.
  absl::StatusOr<MoveList> Moves();
  // The moves the master would start now, none of them started.
  absl::StatusOr<MoveList> Plan();
  // Drains `node_id` (or, with `dry_run`, only says what would move).
  // INVALID_ARGUMENT for an unknown node; FAILED_PRECONDITION when the
  // other nodes cannot hold N replicas as placement requires.
  absl::StatusOr<DecommissionResult> Decommission(const std::string& node_id,
                                                  bool dry_run);
  // N, from the directory (fetched once and cached).
  absl::StatusOr<uint32_t> ReplicationFactor();
  // Every master this client was given (ClientOptions.master), asked for
  // its role; one that does not answer is "unreachable".
  MasterList Masters();

  // Clients are made by Create(); the implementation is the SDK's own.
  explicit Client(std::unique_ptr<internal::ClientImpl> impl);

 private:
  std::unique_ptr<internal::ClientImpl> impl_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_CLIENT_INCLUDE_QUORUMKV_CLIENT_H_
