#!/usr/bin/env bash
# A local QuorumKV cluster on 127.0.0.1: one master and six storage nodes on
# three racks (r1, r2, r3), with data and logs under one directory.
#
#   deploy/local-cluster.sh up       install what is missing, build if needed,
#                                    start, wait until every node is UP
#   deploy/local-cluster.sh up --tls the same with mutual TLS: a CA and a
#                                    certificate per daemon and for kvcli
#                                    (made once, under DIR/tls), HTTPS
#   deploy/local-cluster.sh up --ha  replicated masters: a 3-member etcd on
#                                    loopback (data under DIR/etcd1..3) and
#                                    three masters (BASE, BASE+1, BASE+2)
#                                    before the six nodes; with --tls too
#   deploy/local-cluster.sh add RACK start one more storage node on RACK and
#                                    wait until it is UP (it then receives
#                                    partitions: watch `kvcli moves`)
#   deploy/local-cluster.sh status   show the processes and `kvcli nodes`
#   deploy/local-cluster.sh down     stop exactly the processes `up` and
#                                    `add` started
#   deploy/local-cluster.sh reset    `down`, then delete the data and logs:
#                                    the next `up` makes a new cluster
#
# A node that a decommission removed stops by itself; `up` starts it no
# more (it leaves a NAME.removed marker) and counts the nodes it starts.
#
# Environment:
#   QKV_CLUSTER_DIR  where data, logs and pid files go (default: .cluster)
#   QKV_BASE_PORT    master port; node i listens on BASE+100+i (default 7000).
#                    HTTP (status page, /metrics, /healthz): the master on
#                    BASE+80, node i on BASE+180+i (7080, 7181-7186). With
#                    --ha: masters on BASE..BASE+2 (HTTP BASE+80..82), etcd
#                    member i's clients on BASE+30+i, its peers on BASE+40+i.
#                    Front doors of node i: Redis (RESP) on BASE+200+i
#                    (7201-7206), memcached on BASE+210+i (7211-7216)
#   QKV_BIN_DIR      where the binaries are (default: build/bin, built if
#                    missing)
#   QKV_MASTER_LEASE with --ha: the masters' --master_lease (default 5s)
#   QKV_LINEARIZABLE_PREFIXES: the masters' --linearizable_prefixes
#     (default lock/,counter/: keys for cas and incr)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${QKV_CLUSTER_DIR:-$root/.cluster}
base=${QKV_BASE_PORT:-7000}
bin=${QKV_BIN_DIR:-$root/build/bin}
# Present while the cluster runs replicated masters (`up --ha`).
ha_marker="$dir/ha.on"
ha_on() { [ -f "$ha_marker" ]; }
masters_of() {  # the --master list
  if ha_on; then
    echo "127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"
  else
    echo "127.0.0.1:$base"
  fi
}
master=$(masters_of)
etcd_endpoints="127.0.0.1:$((base + 31)),127.0.0.1:$((base + 32)),127.0.0.1:$((base + 33))"
tls_root="$dir/tls"
# Present while the cluster runs with TLS (`up --tls`): add, status and the
# script's own kvcli calls follow it.
tls_marker="$dir/tls.on"
tls_on() { [ -f "$tls_marker" ]; }
scheme() { if tls_on; then echo https; else echo http; fi; }
racks=(r1 r2 r3 r1 r2 r3)

# What `up` or `add` started in this run: stopped again if the run fails, so
# that a failed start leaves nothing behind.
started=()
cleanup_on_failure() {
  local name
  for name in "${started[@]}"; do
    if alive "$name"; then kill "$(cat "$dir/$name.pid")" 2>/dev/null || true; fi
  done
  for name in "${started[@]}"; do
    local deadline=$((SECONDS + 10))
    while alive "$name" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if alive "$name"; then kill -9 "$(cat "$dir/$name.pid")" 2>/dev/null || true; fi
    rm -f "$dir/$name.pid"
  done
  [ ${#started[@]} -eq 0 ] || echo "local-cluster: stopped what this run started: ${started[*]}" >&2
}

die() {
  echo "local-cluster: $*" >&2
  cleanup_on_failure
  exit 1
}

# This script as the user should run it again: with the environment that
# chose a non-default directory or port.
self() {
  local env=""
  [ -n "${QKV_CLUSTER_DIR:-}" ] && env+="QKV_CLUSTER_DIR=$dir "
  [ -n "${QKV_BASE_PORT:-}" ] && env+="QKV_BASE_PORT=$base "
  [ -n "${QKV_BIN_DIR:-}" ] && env+="QKV_BIN_DIR=$bin "
  echo "$env$0"
}

# kvcli as this cluster needs it: with the client certificate under TLS.
kvcli() {
  if tls_on; then
    "$bin/kvcli" --master="$master" --tls_dir="$tls_root/client" "$@"
  else
    "$bin/kvcli" --master="$master" "$@"
  fi
}

# --tls_dir of daemon NAME under TLS; nothing otherwise.
tls_flag() {
  if tls_on; then echo "--tls_dir=$tls_root/$1"; fi
}

alive() {  # alive NAME: the pid recorded for NAME runs the binary we started
  local pidfile="$dir/$1.pid" pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--data[_-]dir=$dir/$1 "
}

# The masters this cluster runs: master (and master2, master3 with --ha).
master_names() {
  if ha_on; then echo master master2 master3; else echo master; fi
}
etcd_names() {
  if ha_on; then echo etcd1 etcd2 etcd3; fi
}

# start_etcd NAME: member i of the 3-member etcd on loopback; waits until
# it serves.
start_etcd() {
  local name=$1 i=${1#etcd}
  if alive "$name"; then echo "$name already running (pid $(cat "$dir/$name.pid"))"; return; fi
  local peers="" n
  for n in 1 2 3; do peers+="${peers:+,}etcd$n=http://127.0.0.1:$((base + 40 + n))"; done
  local log="$dir/$name.log"
  etcd --name="$name" --data-dir="$dir/$name" \
    --listen-client-urls="http://127.0.0.1:$((base + 30 + i))" \
    --advertise-client-urls="http://127.0.0.1:$((base + 30 + i))" \
    --listen-peer-urls="http://127.0.0.1:$((base + 40 + i))" \
    --initial-advertise-peer-urls="http://127.0.0.1:$((base + 40 + i))" \
    --initial-cluster="$peers" --initial-cluster-state=new \
    --initial-cluster-token="quorumkv-$base" --logger=zap --log-level=warn \
    >>"$log" 2>&1 &
  echo $! >"$dir/$name.pid"
  started+=("$name")
}

# start NAME BINARY ARGS...: starts it in the background and waits until it
# serves (it logs "BINARY started") or fails to; a daemon that fails stops
# the run. The master's view cannot tell: a node killed a moment ago may
# still be UP there.
start() {
  local name=$1 binary=$2; shift 2
  if alive "$name"; then echo "$name already running (pid $(cat "$dir/$name.pid"))"; return; fi
  mkdir -p "$dir/$name"
  local log="$dir/$name.log" from
  from=$(($(stat -c %s "$log" 2>/dev/null || echo 0) + 1))
  "$bin/$binary" --data_dir="$dir/$name" "$@" >>"$log" 2>&1 &
  # (alive() looks for "--data_dir=DIR/NAME " in the command line: the
  # flags that follow keep a space after it.)
  echo $! >"$dir/$name.pid"
  started+=("$name")
  local deadline=$((SECONDS + 30))
  until tail -c +"$from" "$log" | grep -q "\] $binary started$"; do
    alive "$name" || die "$name exited; see $log: $(tail -c +"$from" "$log" | tail -n 2 | tr '\n' ' ')"
    [ $SECONDS -lt $deadline ] || die "$name not serving after 30s; see $log"
    sleep 0.05
  done
}

# Nodes that are UP (or REMOVED by a decommission) and route by the
# master's directory epoch.
ready_count() {
  local json epoch
  json=$(kvcli --timeout=2s --json nodes 2>/dev/null) || { echo 0; return; }
  epoch=$(echo "$json" | grep -o '^{"epoch": [0-9]*' | grep -o '[0-9]*$')
  echo "$json" | grep -o "\"state\": \"\(UP\|REMOVED\)\"[^}]*\"directory_epoch\": $epoch[,}]" | wc -l
}

# Every storage node this cluster has (node1..node6 and those added), in
# order; an added node's rack is kept in nodeN.rack.
node_names() {
  local names=(node1 node2 node3 node4 node5 node6) f n
  for f in "$dir"/node*.rack; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .rack)
    names+=("$n")
  done
  # A node a decommission removed holds nothing and never will: forgotten.
  for n in "${names[@]}"; do
    [ -e "$dir/$n.removed" ] || echo "$n"
  done | sort -t e -k 2 -n | uniq
}

# Marks the nodes the master lists as REMOVED (by their names), so that
# `up` starts them no more.
forget_removed() {
  local json object name
  json=$(kvcli --timeout=2s --json nodes 2>/dev/null) || return 0
  while read -r object; do
    name=$(grep -o '"name": "[^"]*"' <<<"$object" | cut -d'"' -f4)
    [ -n "$name" ] && [ -d "$dir/$name" ] || continue
    if [ ! -e "$dir/$name.removed" ]; then
      touch "$dir/$name.removed"
      echo "$name was decommissioned (REMOVED): not started again"
    fi
  done < <(grep -o '{"id": [^}]*"state": "REMOVED"[^}]*}' <<<"$json")
}

rack_of() {  # rack_of NAME
  local i=${1#node}
  if [ "$i" -le 6 ]; then echo "${racks[$((i - 1))]}"; else cat "$dir/$1.rack"; fi
}

start_node() {  # start_node NAME
  local i=${1#node}
  start "$1" kv_storage_node --listen="127.0.0.1:$((base + 100 + i))" \
    --master="$master" --rack="$(rack_of "$1")" \
    --http_listen="127.0.0.1:$((base + 180 + i))" \
    --redis_listen="127.0.0.1:$((base + 200 + i))" \
    --memcached_listen="127.0.0.1:$((base + 210 + i))" $(tls_flag "$1")
}

# Whether the node listening on PORT is UP as the master sees it.
node_up() {
  kvcli --timeout=2s --json nodes 2>/dev/null |
    grep -q "\"address\": \"127.0.0.1:$1\", \"rack\": \"[^\"]*\", \"state\": \"UP\""
}

cmd_add() {
  local rack=${1:-}
  [[ "$rack" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "usage: $0 add RACK (letters, digits, . _ -)" >&2; exit 2; }
  alive master || die "the cluster is not running; start it with: $(self) up"
  # (with --ha, nodes find the leader among the masters of the list)
  local i=7
  while [ -e "$dir/node$i.rack" ] || [ -e "$dir/node$i" ]; do i=$((i + 1)); done
  [ "$i" -le 99 ] || die "at most 99 storage nodes"
  echo "$rack" >"$dir/node$i.rack"
  if tls_on; then "$root/deploy/make-certs.sh" "$tls_root" "node$i"; fi
  start_node "node$i"
  local deadline=$((SECONDS + 30))
  until node_up $((base + 100 + i)); do
    alive "node$i" || die "node$i exited; see $dir/node$i.log: $(tail -n 3 "$dir/node$i.log" | tr '\n' ' ')"
    [ $SECONDS -lt $deadline ] || die "node$i not UP after 30s; see $dir/node$i.log"
    sleep 0.2
  done
  cat <<EOT
node$i is UP on 127.0.0.1:$((base + 100 + i)), rack $rack. Partitions move to it now:
  $(kvcli_hint) moves
  $(kvcli_hint) status
EOT
}

# How the user runs kvcli against this cluster, for the messages.
kvcli_hint() {
  if tls_on; then
    echo "$bin/kvcli --master=$master --tls_dir=$tls_root/client"
  else
    echo "$bin/kvcli --master=$master"
  fi
}

cmd_up() {
  local tls=false ha=false arg
  for arg in "$@"; do
    case "$arg" in
      --tls) tls=true ;;
      --ha) ha=true ;;
      *) echo "usage: $0 up [--tls] [--ha]" >&2; exit 2 ;;
    esac
  done
  if [ -n "${QKV_BIN_DIR:-}" ]; then
    [ -x "$bin/kv_master" ] && [ -x "$bin/kv_storage_node" ] && [ -x "$bin/kvcli" ] ||
      die "no binaries in $bin"
  else
    # Builds what changed since the last build (nothing: a few seconds).
    if [ "$ha" = true ]; then "$root/scripts/install-deps.sh" --ha; else "$root/scripts/install-deps.sh"; fi
    "$root/scripts/build.sh" >/dev/null
  fi
  mkdir -p "$dir"
  if alive master; then
    local running_tls=false running_ha=false
    if tls_on; then running_tls=true; fi
    if ha_on; then running_ha=true; fi
    [ "$tls" = "$running_tls" ] ||
      die "the cluster is running $(if tls_on; then echo with; else echo without; fi) TLS; stop it first: $(self) down"
    [ "$ha" = "$running_ha" ] ||
      die "the cluster is running $(if ha_on; then echo with; else echo without; fi) replicated masters; stop it first: $(self) down"
  fi
  if [ "$ha" = true ]; then
    command -v etcd >/dev/null || die "etcd is not installed (scripts/install-deps.sh --ha)"
    touch "$ha_marker"
  else
    rm -f "$ha_marker"
  fi
  master=$(masters_of)
  if [ "$tls" = true ]; then
    "$root/deploy/make-certs.sh" "$tls_root" $(master_names) client $(node_names) ||
      die "could not make certificates under $tls_root"
    touch "$tls_marker"
  else
    rm -f "$tls_marker"
  fi
  local name i=0 ha_flags=()
  for name in $(etcd_names); do start_etcd "$name"; done
  if ha_on; then
    ha_flags=(--etcd="$etcd_endpoints")
    if [ -n "${QKV_MASTER_LEASE:-}" ]; then ha_flags+=(--master_lease="$QKV_MASTER_LEASE"); fi
  fi
  for name in $(master_names); do
    start "$name" kv_master --listen="127.0.0.1:$((base + i))" --initial_nodes=6 \
      --http_listen="127.0.0.1:$((base + 80 + i))" \
      --linearizable_prefixes="${QKV_LINEARIZABLE_PREFIXES-lock/,counter/}" \
      $(tls_flag "$name") "${ha_flags[@]}"
    i=$((i + 1))
  done
  # The masters first: nodes register with the leader as they start.
  local deadline=$((SECONDS + 30))
  # (status exits 3 until the directory is formed: any answer will do.)
  until { kvcli --timeout=1s --json status 2>/dev/null || true; } |
        grep -q '"epoch"'; do
    alive master || die "master exited; see $dir/master.log: $(tail -n 3 "$dir/master.log" | tr '\n' ' ')"
    [ $SECONDS -lt $deadline ] || die "master not answering after 30s; see $dir/master.log"
    sleep 0.2
  done
  forget_removed
  for name in $(node_names); do start_node "$name"; done
  local want
  deadline=$((SECONDS + 60))
  want=$(node_names | wc -l)
  while [ "$(ready_count)" -lt "$want" ]; do
    for name in $(etcd_names) $(master_names) $(node_names); do
      alive "$name" || die "$name exited; see $dir/$name.log: $(tail -n 3 "$dir/$name.log" | tr '\n' ' ')"
    done
    [ $SECONDS -lt $deadline ] || die "nodes not UP after 60s; logs in $dir"
    sleep 0.2
  done
  local status_page tls_lines=""
  status_page="$(scheme)://127.0.0.1:$((base + 80))/"
  if tls_on; then
    tls_lines="Mutual TLS: certificates in $tls_root (CA: $tls_root/ca.pem); kvcli
needs the client's: export KV_TLS_DIR=$tls_root/client
  curl --cacert $tls_root/ca.pem ${status_page}healthz
"
  fi
  local masters_line="master $master" node_count rack_list redis_tls="" mc_hint
  mc_hint="  /usr/bin/python3 -c 'from pymemcache.client.base import Client; print(Client((\"127.0.0.1\", $((base + 211)))).get(\"greeting\"))'"
  if tls_on; then
    redis_tls=" --tls --cacert $tls_root/client/ca.pem --cert $tls_root/client/cert.pem --key $tls_root/client/key.pem"
    mc_hint="  (the doors are mutual TLS too: memcached clients need the same certificate)"
  fi
  node_count=$(node_names | wc -l)
  rack_list=$(for name in $(node_names); do rack_of "$name"; done | sort -u | tr '\n' ' ')
  if ha_on; then
    masters_line="masters $master (on etcd $etcd_endpoints; kvcli masters shows the leader)"
  fi
  cat <<EOT
QuorumKV is up: $masters_line, $node_count storage nodes on racks ${rack_list% }.
Data and logs: $dir
Status page: $status_page (metrics: ${status_page}metrics; node i:
$(scheme)://127.0.0.1:$((base + 181))/metrics ... on port $((base + 180))+i)
$tls_lines
  export KV_MASTER=$master$(if tls_on; then echo " KV_TLS_DIR=$tls_root/client"; fi)
  $bin/kvcli put greeting hello
  $bin/kvcli get greeting
  $bin/kvcli --mode=recursive get greeting
  $bin/kvcli where greeting
  $bin/kvcli nodes

Redis and memcached clients work on every node (node i: Redis on port
$((base + 200))+i, memcached on $((base + 210))+i; scripts/install-deps.sh
--clients installs redis-cli and pymemcache):
  redis-cli -p $((base + 201))$redis_tls set greeting hello      (redis-cli -c: cluster-aware)
  redis-cli -p $((base + 204))$redis_tls get greeting
$mc_hint

Stop it with: $(self) down
EOT
}

cmd_down() {
  local stopped=0
  local names
  # Nodes, then masters, then etcd.
  names="$(node_names | sort -r) $(master_names) $(etcd_names)"
  for name in $names; do
    if alive "$name"; then
      kill "$(cat "$dir/$name.pid")" && stopped=$((stopped + 1))
    fi
  done
  local deadline=$((SECONDS + 20))
  for name in $names; do
    while alive "$name"; do
      [ $SECONDS -lt $deadline ] || { kill -9 "$(cat "$dir/$name.pid")" 2>/dev/null || true; break; }
      sleep 0.1
    done
    rm -f "$dir/$name.pid"
  done
  echo "stopped $stopped processes (data kept in $dir)"
}

cmd_reset() {
  cmd_down
  rm -rf "$dir"
  echo "removed $dir: the next \`up\` starts a new, empty cluster"
}

cmd_status() {
  for name in $(etcd_names) $(master_names) $(node_names); do
    if alive "$name"; then
      echo "$name: running (pid $(cat "$dir/$name.pid"))"
    else
      echo "$name: stopped"
    fi
  done
  if alive master; then
    if ha_on; then kvcli masters || true; fi
    kvcli nodes
  fi
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  add) shift; cmd_add "$@" ;;
  reset) cmd_reset ;;
  *) echo "usage: $0 up [--tls] [--ha]|down|status|add RACK|reset" >&2; exit 2 ;;
esac
