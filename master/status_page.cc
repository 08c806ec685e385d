#include "master/status_page.h"

#include <string>

#include "google/protobuf/util/json_util.h"
#include "proto/master.pb.h"

namespace quorumkv {
namespace {

// Self-contained (no outside scripts or fonts): operators open it where
// the cluster runs, often without internet.
constexpr const char* kPage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>QuorumKV status</title>
<style>
  body { font-family: sans-serif; margin: 1.5em; color: #222; }
  h1 { font-size: 1.4em; margin-bottom: 0.2em; }
  .summary span { margin-right: 1.5em; }
  .bad { color: #b00; font-weight: bold; }
  .good { color: #070; }
  table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
  th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right;
           white-space: nowrap; }
  th { background: #f3f3f3; }
  td.text { text-align: left; }
  tr.state-DOWN td { color: #b00; }
  tr.state-REMOVED td { color: #999; }
  tr.state-DECOMMISSIONING td { color: #a60; }
  #error { display: none; padding: 0.5em; background: #fdd; }
</style>
</head>
<body>
<h1>QuorumKV cluster</h1>
<div id="error"></div>
<div class="summary" id="summary">loading...</div>
<p class="bad" id="under-replicated"></p>
<div id="racks"></div>
<h2>Hottest keys and partitions</h2>
<div id="hot"></div>
<h2>Moves in flight</h2>
<div id="moves"></div>
<p><small>Refreshes every 2 s from <a href="/api/status">/api/status</a>;
metrics at <a href="/metrics">/metrics</a>. <span id="updated"></span></small></p>
<script>
"use strict";
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function row(cells, header) {
  const tr = el("tr");
  for (const c of cells) {
    const td = el(header ? "th" : "td", c);
    if (!header && typeof c === "string" && isNaN(Number(c))) td.className = "text";
    tr.appendChild(td);
  }
  return tr;
}
function bytes(n) {
  n = Number(n || 0);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}
// A key as the JSON of the status carries it (base64 bytes): its text
// when it is UTF-8, its bytes as escapes otherwise.
function keyText(b64) {
  const raw = atob(b64 || "");
  try {
    return new TextDecoder("utf-8", {fatal: true})
        .decode(Uint8Array.from(raw, ch => ch.charCodeAt(0)));
  } catch (e) {
    return Array.from(raw, ch => "\\x" + ch.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  }
}
function renderHot(c) {
  const hot = document.getElementById("hot");
  hot.replaceChildren();
  const keys = c.hot_keys || [], parts = c.hot_partitions || [];
  if (!keys.length && !parts.length) {
    hot.appendChild(el("p", "no requests in the nodes' last heartbeat interval"));
    return;
  }
  const rate = x => Number(x || 0).toFixed(1);
  const keyTable = el("table");
  keyTable.id = "hot-keys";
  keyTable.appendChild(row(["key", "partition", "reads/s", "writes/s"], true));
  for (const k of keys) {
    keyTable.appendChild(row([keyText(k.key), k.partition || 0,
        rate(k.reads_per_sec), rate(k.writes_per_sec)]));
  }
  hot.appendChild(keyTable);
  const partTable = el("table");
  partTable.id = "hot-partitions";
  partTable.appendChild(row(["partition", "reads/s", "writes/s", "replicas"], true));
  for (const p of parts) {
    partTable.appendChild(row([p.partition || 0, rate(p.reads_per_sec),
        rate(p.writes_per_sec), (p.replicas || []).join(" ")]));
  }
  hot.appendChild(partTable);
}
function render(s) {
  const c = s.cluster || {};
  const nodes = c.nodes || [];
  const summary = document.getElementById("summary");
  summary.replaceChildren();
  const byState = {};
  for (const n of nodes) byState[n.state] = (byState[n.state] || 0) + 1;
  summary.appendChild(el("span", c.leader
      ? "leader " + c.leader + " (term " + (c.term || 0) + ")" +
        (c.answered_by && c.answered_by !== c.leader
             ? "; this page from standby " + c.answered_by : "")
      : "no leader: " + (c.leader_problem || "unknown"),
      c.leader ? "good" : "bad"));
  const masters = s.masters || [];
  if (masters.length > 1) {
    summary.appendChild(el("span", "masters: " + masters
        .map(m => m.address + " " + m.role).join(", ")));
  }
  if (c.stale_reason) {
    summary.appendChild(el("span", "the leader could not be reached (" +
        c.stale_reason + "): loads are missing", "bad"));
  }
  summary.appendChild(el("span", "epoch " + (c.epoch || 0)));
  summary.appendChild(el("span", c.directory_formed ? "directory formed"
      : "directory not formed (" + (c.registered_nodes || 0) + " of " +
        (c.initial_nodes || 0) + " nodes)", c.directory_formed ? "good" : "bad"));
  summary.appendChild(el("span", "nodes: " + Object.keys(byState).sort()
      .map(k => byState[k] + " " + k).join(", ")));
  summary.appendChild(el("span", (c.partitions || 0) + " partitions, N=" +
      (c.replication || 0)));
  const under = Number(c.under_replicated || 0);
  summary.appendChild(el("span", under + " under-replicated",
      under ? "bad" : "good"));
  const misplaced = Number(c.misplaced || 0);
  summary.appendChild(el("span", misplaced + " misplaced",
      misplaced ? "bad" : "good"));
  summary.appendChild(el("span", (c.moves || 0) + " moves in flight"));
  const lacking = document.getElementById("under-replicated");
  const listed = c.under_replicated_partitions || [];
  lacking.textContent = listed.length
      ? "Under-replicated partitions: " + listed.join(", ") +
            (Number(c.under_replicated || 0) > listed.length ? ", ..." : "")
      : "";

  const racks = {};
  for (const n of nodes) (racks[n.node.rack] = racks[n.node.rack] || []).push(n);
  const container = document.getElementById("racks");
  container.replaceChildren();
  for (const rack of Object.keys(racks).sort()) {
    const section = el("section");
    section.className = "rack";
    section.dataset.rack = rack;
    section.appendChild(el("h2", "Rack " + rack));
    const table = el("table");
    table.appendChild(row(["node", "name", "address", "state", "partitions", "joining",
        "keys", "bytes", "free", "reads/s", "writes/s", "pending hints",
        "last heartbeat"], true));
    for (const n of racks[rack]) {
      const l = n.load || {};
      const tr = row([n.node.id, n.node.name || "", n.node.address, n.state,
          n.partitions || 0,
          n.joining || 0, l.keys || 0, bytes(l.bytes), bytes(l.free_bytes),
          Number(l.reads_per_sec || 0).toFixed(1),
          Number(l.writes_per_sec || 0).toFixed(1), l.pending_hints || 0,
          Number(n.last_heartbeat_ms_ago) < 0 ? "never"
              : n.last_heartbeat_ms_ago + " ms ago"]);
      tr.className = "node state-" + n.state;
      tr.dataset.node = n.node.id;
      table.appendChild(tr);
    }
    section.appendChild(table);
    container.appendChild(section);
  }

  renderHot(c);

  const moves = document.getElementById("moves");
  moves.replaceChildren();
  if (!(s.moves || []).length) {
    moves.appendChild(el("p", "none"));
  } else {
    const table = el("table");
    table.appendChild(row(["partition", "from", "to", "reason", "state",
        "streamed"], true));
    for (const m of s.moves) {
      table.appendChild(row([m.move.partition || 0, m.move.from_node || "-",
          m.move.to_node,
          String(m.move.reason).replace("MOVE_", "").toLowerCase(), m.state, bytes(m.bytes_streamed)]));
    }
    moves.appendChild(table);
  }
  document.getElementById("updated").textContent =
      "Updated " + new Date().toLocaleTimeString() + ".";
}
// With --auth_token_file the data needs a token: the page takes it from
// its address's fragment (/#token=TOKEN), which browsers never send to a
// server or put in its logs, and sends it as a bearer token.
const token = new URLSearchParams(location.hash.slice(1)).get("token");
const headers = token ? {"Authorization": "Bearer " + token} : {};
async function refresh() {
  const error = document.getElementById("error");
  try {
    const response = await fetch("/api/status", {cache: "no-store", headers});
    if (response.status === 401 || response.status === 403) {
      throw new Error("HTTP " + response.status + ": the master needs a data " +
                      "token; open this page as /#token=TOKEN");
    }
    if (!response.ok) throw new Error("HTTP " + response.status);
    render(await response.json());
    error.style.display = "none";
  } catch (e) {
    error.textContent = "Cannot reach the master: " + e.message;
    error.style.display = "block";
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
)html";

}  // namespace

std::vector<HttpRoute> StatusPageRoutes(
    const ClusterStatusReporter* status,
    std::function<std::vector<MastersResponse>()> masters) {
  return {
      // The page holds no data, so it needs no token; the data it fetches
      // does (see the script: the token comes from the URL's fragment).
      {"/", [] { return HttpResponse{200, "text/html; charset=utf-8", kPage}; },
       /*open=*/true},
      {"/api/status",
       [status, masters] {
         StatusReport report;
         *report.mutable_cluster() = status->Describe();
         for (MastersResponse& m : masters()) {
           *report.add_masters() = std::move(m);
         }
         ListMovesResponse moves = status->Moves();
         report.mutable_moves()->Swap(moves.mutable_moves());
         google::protobuf::util::JsonPrintOptions options;
         options.preserve_proto_field_names = true;
         options.always_print_primitive_fields = true;
         std::string json;
         const auto printed =
             google::protobuf::util::MessageToJsonString(report, &json, options);
         if (!printed.ok()) {
           return HttpResponse{500, "text/plain; charset=utf-8",
                               std::string(printed.message()) + "\n"};
         }
         return HttpResponse{200, "application/json", json + "\n"};
       }},
  };
}

}  // namespace quorumkv
