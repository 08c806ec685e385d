// kvcli: the QuorumKV command-line client (DESIGN.md section 7).
//
// Exit codes: 0 success; 1 key not found; 2 bad usage or invalid argument;
// 3 unavailable (quorum not reached, master or node unreachable, deadline);
// 4 any other error. Every error is one line on standard error.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/include/quorumkv/client.h"
#include "common/limits.h"
#include "common/process.h"
#include "common/status_macros.h"

ABSL_FLAG(std::string, master, "",
          "master host:port (default: $KV_MASTER, then 127.0.0.1:7000)");
ABSL_FLAG(std::string, mode, "iterative", "iterative or recursive");
ABSL_FLAG(int, w, -1, "write quorum, 1..N (default: N/2+1)");
ABSL_FLAG(int, r, -1, "read quorum, 1..N (default: N/2+1)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5),
          "time a request may take, retries included");
ABSL_FLAG(bool, json, false, "machine-readable output");

namespace quorumkv {
namespace {

struct Context {
  Client* client = nullptr;
  std::vector<std::string> args;  // after the command name
  RequestOptions request;
  bool json = false;
};

struct Command {
  const char* name;
  const char* usage;
  const char* description;
  size_t args;
  absl::Status (*run)(Context&);
};

// A JSON string literal of `bytes` (UTF-8 passes through).
std::string Json(absl::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
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
    std::cout << "{\"key\": " << Json(ctx.args[0]) << ", \"version\": "
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
    value.assign(std::istreambuf_iterator<char>(std::cin),
                 std::istreambuf_iterator<char>());
  }
  RETURN_IF_ERROR(CheckQuorums(ctx));
  ASSIGN_OR_RETURN(WriteResult result,
                   ctx.client->Put(ctx.args[0], value, ctx.request));
  return PrintWrite(ctx, result);
}

absl::Status RunGet(Context& ctx) {
  RETURN_IF_ERROR(CheckQuorums(ctx));
  ASSIGN_OR_RETURN(ReadResult result, ctx.client->Get(ctx.args[0], ctx.request));
  if (ctx.json) {
    std::cout << "{\"key\": " << Json(ctx.args[0]) << ", \"value\": \""
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
  return PrintWrite(ctx, result);
}

absl::Status RunWhere(Context& ctx) {
  ASSIGN_OR_RETURN(KeyLocation where, ctx.client->Where(ctx.args[0]));
  if (ctx.json) {
    std::cout << "{\"key\": " << Json(ctx.args[0])
              << ", \"partition\": " << where.partition
              << ", \"epoch\": " << where.epoch << ", \"replicas\": [";
    for (size_t i = 0; i < where.replicas.size(); ++i) {
      const ReplicaLocation& r = where.replicas[i];
      std::cout << (i ? ", " : "") << "{\"id\": " << Json(r.id)
                << ", \"address\": " << Json(r.address)
                << ", \"rack\": " << Json(r.rack)
                << ", \"state\": " << Json(r.state) << "}";
    }
    std::cout << "]}\n";
    return absl::OkStatus();
  }
  std::cout << "partition " << where.partition << ", epoch " << where.epoch
            << "\n";
  std::cout << absl::StrFormat("%-14s %-22s %-8s %s\n", "NODE", "ADDRESS",
                               "RACK", "STATE");
  for (const ReplicaLocation& r : where.replicas) {
    std::cout << absl::StrFormat("%-14s %-22s %-8s %s\n", r.id, r.address,
                                 r.rack, r.state);
  }
  return absl::OkStatus();
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
                << ", \"keys\": " << n.keys << ", \"bytes\": " << n.bytes
                << ", \"free_bytes\": " << n.free_bytes
                << absl::StrFormat(", \"reads_per_sec\": %.1f", n.reads_per_sec)
                << absl::StrFormat(", \"writes_per_sec\": %.1f",
                                   n.writes_per_sec)
                << ", \"pending_hints\": " << n.pending_hints
                << ", \"last_heartbeat_ms_ago\": " << n.last_heartbeat_ms_ago
                << ", \"directory_epoch\": " << n.directory_epoch << "}";
    }
    std::cout << "]}\n";
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
                   "%-14s %-22s %-6s %-6s %5s %9s %11s %9s %8s %8s %6s %5s\n",
                   "NODE", "ADDRESS", "RACK", "STATE", "PARTS", "KEYS",
                   "BYTES", "FREE_GB", "READS/S", "WRITES/S", "HB_MS",
                   "EPOCH");
  for (const NodeSummary& n : cluster.nodes) {
    std::cout << absl::StrFormat(
        "%-14s %-22s %-6s %-6s %5d %9d %11d %9.1f %8.1f %8.1f %6d %5d\n",
        n.node.id, n.node.address, n.node.rack, n.node.state, n.partitions,
        n.keys, n.bytes, n.free_bytes / 1e9, n.reads_per_sec,
        n.writes_per_sec, n.last_heartbeat_ms_ago, n.directory_epoch);
  }
  return absl::OkStatus();
}

constexpr Command kCommands[] = {
    {"put", "put KEY VALUE", "store VALUE under KEY (VALUE - reads stdin)", 2,
     RunPut},
    {"get", "get KEY", "print KEY's value bytes to stdout", 1, RunGet},
    {"del", "del KEY", "delete KEY", 1, RunDel},
    {"where", "where KEY", "show KEY's partition, epoch and replicas", 1,
     RunWhere},
    {"nodes", "nodes", "show every node with its state and load", 0,
     RunNodes},
};

std::string Usage() {
  std::string usage =
      "usage: kvcli [--master=HOST:PORT] [--mode=iterative|recursive] "
      "[--w=N] [--r=N] [--timeout=5s] [--json] COMMAND ...\n\ncommands:\n";
  for (const Command& c : kCommands) {
    absl::StrAppendFormat(&usage, "  %-16s %s\n", c.usage, c.description);
  }
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

// Sets the absl flags in `argv` and returns the other arguments. Flags may
// stand anywhere; "--" ends them. INVALID_ARGUMENT for unknown flags or bad
// values (absl's own parser would exit 1, not kvcli's 2).
absl::StatusOr<std::vector<std::string>> ParseArgs(int argc, char** argv) {
  std::vector<std::string> positional;
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (flags_done || !absl::StartsWith(arg, "--") || arg.size() == 2) {
      if (arg == "--" && !flags_done) {
        flags_done = true;
      } else {
        positional.emplace_back(arg);
      }
      continue;
    }
    arg.remove_prefix(2);
    const size_t eq = arg.find('=');
    absl::string_view name = arg.substr(0, eq);
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr || absl::StrContains(flag->Filename(), "absl/")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see kvcli --help)"));
    }
    std::string value;
    if (eq != absl::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
    } else if (flag->IsOfType<bool>()) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", name, " needs a value"));
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad value for --", name, ": ", error));
    }
  }
  return positional;
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
  return options;
}

// -1 (unset) means the cluster default; anything else must be 1..N.
absl::StatusOr<int> QuorumFlag(const char* name, int value) {
  if (value == -1) return 0;
  if (value < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, "=", value, " is outside 1..N"));
  }
  return value;
}

absl::Status Run(int argc, char** argv) {
  ASSIGN_OR_RETURN(std::vector<std::string> args, ParseArgs(argc, argv));
  if (args.empty()) {
    return absl::InvalidArgumentError("no command given (see kvcli --help)");
  }
  const Command* command = nullptr;
  for (const Command& c : kCommands) {
    if (args[0] == c.name) command = &c;
  }
  if (command == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown command '", args[0], "' (commands: put, get, del, where, "
        "nodes; see kvcli --help)"));
  }
  if (args.size() - 1 != command->args) {
    return absl::InvalidArgumentError(
        absl::StrCat("usage: kvcli ", command->usage));
  }
  Context ctx;
  ctx.args.assign(args.begin() + 1, args.end());
  ctx.json = absl::GetFlag(FLAGS_json);
  ASSIGN_OR_RETURN(ctx.request.w, QuorumFlag("w", absl::GetFlag(FLAGS_w)));
  ASSIGN_OR_RETURN(ctx.request.r, QuorumFlag("r", absl::GetFlag(FLAGS_r)));
  ASSIGN_OR_RETURN(ClientOptions options, OptionsFromFlags());
  ASSIGN_OR_RETURN(std::unique_ptr<Client> client, Client::Create(options));
  ctx.client = client.get();
  return Prepend(command->run(ctx), command->name);
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
  }
  absl::Status status = quorumkv::Run(argc, argv);
  if (!status.ok()) {
    std::string message(status.message());
    std::cerr << "kvcli: " << message
              << (absl::EndsWith(message, "\n") ? "" : "\n");
  }
  std::cout.flush();
  quorumkv::ExitProcess(quorumkv::ExitCode(status));
}
