// kvcli: the QuorumKV command-line client (commands and exit codes: README).
//
// Exit codes: 0 success; 1 key not found; 2 bad usage or invalid argument;
// 3 unavailable (quorum not reached, master or node unreachable, deadline);
// 4 any other error. Every error is one line on standard error.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <algorithm>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "quorumkv/client.h"
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
ABSL_FLAG(int, w, -1, "write quorum, 1..N (default: N/2+1)");
ABSL_FLAG(int, r, -1, "read quorum, 1..N (default: N/2+1)");
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

// Whether `arg` is `option`, or gives a value to an option ending in '='.
bool MatchesOption(absl::string_view option, absl::string_view arg) {
  return absl::EndsWith(option, "=") ? absl::StartsWith(arg, option)
                                     : arg == option;
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

absl::Status RunPut(Context& ctx) {
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
              << Json(result.version) << "}\n";
  } else {
    std::fwrite(result.value.data(), 1, result.value.size(), stdout);
    std::fflush(stdout);
  }
  return absl::OkStatus();
}

absl::Status RunDel(Context& ctx) {
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
                << ", \"directory_epoch\": " << n.directory_epoch << "}";
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
  std::cout << "\n"
            << absl::StrFormat(
                   "%-14s %-22s %-6s %-15s %5s %4s %9s %11s %9s %8s %8s %6s "
                   "%6s %5s\n",
                   "NODE", "ADDRESS", "RACK", "STATE", "PARTS", "JOIN", "KEYS",
                   "BYTES", "FREE_GB", "READS/S", "WRITES/S", "HINTS", "HB_MS",
                   "EPOCH");
  for (const NodeSummary& n : cluster.nodes) {
    std::cout << absl::StrFormat(
        "%-14s %-22s %-6s %-15s %5d %4d %9d %11d %9.1f %8.1f %8.1f %6d %6d "
        "%5d\n",
        n.node.id, n.node.address, n.node.rack, n.node.state, n.partitions,
        n.joining, n.keys, n.bytes, n.free_bytes / 1e9, n.reads_per_sec,
        n.writes_per_sec, n.pending_hints, n.last_heartbeat_ms_ago,
        n.directory_epoch);
  }
  std::cout << AntiEntropyLine(cluster);
  return absl::OkStatus();
}

void PrintMoves(const Context& ctx, const MoveList& list) {
  if (ctx.json) {
    std::cout << "{\"epoch\": " << list.epoch << ", \"moves\": [";
    for (size_t i = 0; i < list.moves.size(); ++i) {
      const MoveInfo& m = list.moves[i];
      std::cout << (i ? ", " : "") << "{\"partition\": " << m.partition
                << ", \"from\": " << Json(m.from) << ", \"to\": " << Json(m.to)
                << ", \"reason\": " << Json(m.reason)
                << ", \"state\": " << Json(m.state)
                << ", \"bytes_streamed\": " << m.bytes_streamed
                << ", \"started_ms\": " << m.started_ms << "}";
    }
    std::cout << "]}\n";
    return;
  }
  std::cout << "epoch " << list.epoch << ", " << list.moves.size()
            << (list.moves.size() == 1 ? " move" : " moves") << "\n";
  if (list.moves.empty()) return;
  std::cout << absl::StrFormat("%5s %-14s %-14s %-13s %-10s %12s %s\n", "PART",
                               "FROM", "TO", "REASON", "STATE", "BYTES",
                               "STARTED");
  for (const MoveInfo& m : list.moves) {
    std::cout << absl::StrFormat(
        "%5d %-14s %-14s %-13s %-10s %12d %s\n", m.partition,
        m.from.empty() ? "-" : m.from, m.to, m.reason, m.state,
        m.bytes_streamed,
        m.started_ms == 0
            ? std::string("-")
            : absl::FormatTime("%H:%M:%S", absl::FromUnixMillis(m.started_ms),
                               absl::LocalTimeZone()));
  }
}

absl::Status RunMoves(Context& ctx) {
  ASSIGN_OR_RETURN(MoveList moves, ctx.client->Moves());
  PrintMoves(ctx, moves);
  return absl::OkStatus();
}

absl::Status RunPlan(Context& ctx) {
  ASSIGN_OR_RETURN(MoveList plan, ctx.client->Plan());
  PrintMoves(ctx, plan);
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
  PrintMoves(ctx, MoveList{result->epoch, result->moves});
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

absl::Status RunStatus(Context& ctx) {
  ASSIGN_OR_RETURN(ClusterSummary cluster, ctx.client->Nodes());
  std::map<std::string, int> by_state;
  for (const NodeSummary& n : cluster.nodes) ++by_state[n.node.state];
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
              << ", \"anti_entropy\": " << AntiEntropyJson(cluster) << "}\n";
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
    std::cout << "\npartitions: " << cluster.partitions << ", N="
              << cluster.replication << ", " << cluster.under_replicated
              << " under-replicated, " << cluster.misplaced
              << " misplaced\nmoves in flight: " << cluster.moves
              << "\n" << AntiEntropyLine(cluster)
              << (healthy ? "healthy" : "NOT healthy") << "\n";
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
    {"put", "put KEY VALUE", "store VALUE under KEY (VALUE - reads stdin)", 2,
     RunPut},
    {"get", "get [--from=NODE_ID] KEY",
     "print KEY's value bytes to stdout (--from: that replica's own copy, "
     "no quorum, no repair)",
     1, RunGet, {"--from="}},
    {"del", "del KEY", "delete KEY", 1, RunDel},
    {"where", "where KEY", "show KEY's partition, epoch and replicas", 1,
     RunWhere},
    {"nodes", "nodes", "show every node with its state and load", 0,
     RunNodes},
    {"status", "status",
     "cluster health; exit 0 when every partition has N replicas UP and "
     "none is misplaced, else 3",
     0, RunStatus},
    {"moves", "moves", "list the partition moves in flight", 0, RunMoves},
    {"masters", "masters",
     "each master's role (leader, standby, unreachable) and term; exit 3 "
     "when none leads",
     0, RunMasters},
    {"plan", "plan", "print the moves the master would start now", 0, RunPlan},
    {"decommission", "decommission [--dry-run] [--wait] NODE_ID",
     "drain NODE_ID, then mark it REMOVED", 1, RunDecommission,
     {"--dry-run", "--wait"}},
};

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
  absl::StrAppend(&usage,
                  "\nexit codes: 0 ok, 1 key not found, 2 bad usage, 3 "
                  "unavailable, 4 other error\n");
  return usage;
}

int ExitCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return 0;
    case absl::StatusCode::kNotFound: return 1;
    case absl::StatusCode::kInvalidArgument: return 2;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded: return 3;
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

// -1 (unset) means the cluster default; anything else must be 1..N.
absl::StatusOr<int> QuorumFlag(const char* name, int value, Client& client) {
  if (value == -1) return 0;
  if (value < 1) {
    // Named with N like a value above N is, when the master can say it.
    auto n = client.ReplicationFactor();
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, "=", value, " is outside 1..N",
        n.ok() ? absl::StrCat(" (N=", *n, ")") : ""));
  }
  return value;
}

absl::Status Run(int argc, char** argv) {
  ASSIGN_OR_RETURN(std::vector<std::string> args,
                   ParseFlags(argc, argv, "kvcli", IsCommandOption));
  if (args.empty()) {
    return absl::InvalidArgumentError("no command given (see kvcli --help)");
  }
  // Commands that need no cluster.
  if (args[0] == "help" && args.size() == 1) {
    std::cout << Usage();
    return absl::OkStatus();
  }
  if (args[0] == "version" && args.size() == 1) {
    std::cout << VersionLine("kvcli") << "\n";
    return absl::OkStatus();
  }
  const Command* command = nullptr;
  for (const Command& c : kCommands) {
    if (args[0] == c.name) command = &c;
  }
  if (command == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown command '", args[0], "' (commands: put, get, del, where, "
        "nodes, status, masters, moves, plan, decommission, version, help; see "
        "kvcli "
        "--help)"));
  }
  Context ctx;
  for (size_t i = 1; i < args.size(); ++i) {
    if (AnyMatches(command->options, args[i])) {
      ctx.options.push_back(args[i]);
    } else if (IsCommandOption(args[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          args[i], " is not an option of ", command->name,
          " (usage: kvcli ", command->usage, ")"));
    } else {
      ctx.args.push_back(args[i]);
    }
  }
  if (ctx.args.size() != command->args) {
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
  const bool writes = absl::string_view(command->name) == "put" ||
                      absl::string_view(command->name) == "del";
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
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h") {
      std::cout << quorumkv::Usage();
      return 0;
    }
    if (arg == "--version") {
      std::cout << quorumkv::VersionLine("kvcli") << "\n";
      return 0;
    }
  }
  // Every failure is one line of ours, with gRPC's reason in it.
  quorumkv::DropGrpcLog();
  absl::Status status = quorumkv::Run(argc, argv);
  if (!status.ok()) {
    std::string message(status.message());
    std::cerr << "kvcli: " << message
              << (absl::EndsWith(message, "\n") ? "" : "\n");
  }
  std::cout.flush();
  quorumkv::ExitProcess(quorumkv::ExitCode(status));
}
