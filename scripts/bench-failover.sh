#!/usr/bin/env bash
# Replicated masters (docs/benchmarks.md), on `deploy/local-cluster.sh up
# --ha` (a 3-member etcd, three masters, six nodes on 127.0.0.1) in a
# scratch directory:
#
#   scripts/bench-failover.sh failover [KILLS]        (default 5)
#     kills the leader (-9) KILLS times under a recursive put load through
#     the three masters; each time prints the seconds until another master
#     leads (`kvcli masters`), then starts the killed one again as a
#     standby. Prints the median and the load's errors.
#
#   scripts/bench-failover.sh throughput [ROUNDS]     (default 3)
#     three kvbench --mode=recursive clients at once, putting then getting:
#     all three through one master, then one through each master,
#     interleaved ROUNDS times; each figure is the clients' summed ops/s
#     against their summed ping baseline measured in the same run ("x
#     ping"); prints each round and the medians.
#
# MASTER_LEASE (default 5s) is the masters' --master_lease.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/bin
what=${1:-}
count=${2:-}
case "$what" in
  failover) count=${count:-5} ;;
  throughput) count=${count:-3} ;;
  *) echo "usage: scripts/bench-failover.sh failover [KILLS] | throughput [ROUNDS]" >&2; exit 2 ;;
esac
[[ $count =~ ^[1-9][0-9]*$ ]] || { echo "bench-failover.sh: the count must be a positive number" >&2; exit 2; }
[ -x "$bin/kvbench" ] || { "$root/scripts/install-deps.sh" --ha; "$root/scripts/build.sh"; }

export QKV_CLUSTER_DIR
QKV_CLUSTER_DIR=$(mktemp -d /tmp/qkv-failover-XXXXXX)
export QKV_BASE_PORT=17900
export QKV_MASTER_LEASE=${MASTER_LEASE:-5s}
export QKV_BIN_DIR=$bin
cluster() { "$root/deploy/local-cluster.sh" "$@"; }
cleanup() {
  [ -n "${load_pid:-}" ] && kill "$load_pid" 2>/dev/null
  cluster down >/dev/null 2>&1 || true
  rm -rf "$QKV_CLUSTER_DIR"
}
trap cleanup EXIT
masters="127.0.0.1:$QKV_BASE_PORT,127.0.0.1:$((QKV_BASE_PORT + 1)),127.0.0.1:$((QKV_BASE_PORT + 2))"
kvcli() { "$bin/kvcli" --master="$masters" --timeout=2s "$@"; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
leader() { kvcli --json masters 2>/dev/null | grep -o '"leader": "[^"]*"' | cut -d'"' -f4 || true; }
# The local cluster's name for the master listening on ADDRESS.
name_of() {
  case "${1##*:}" in
    "$QKV_BASE_PORT") echo master ;;
    "$((QKV_BASE_PORT + 1))") echo master2 ;;
    *) echo master3 ;;
  esac
}

cluster up --ha >/dev/null
echo "cluster up: masters $masters, --master_lease=$QKV_MASTER_LEASE"

failover() {
  : >"$QKV_CLUSTER_DIR/times"
  "$bin/kvbench" --master="$masters" --mode=recursive --workload=put \
    --baseline=0 --progress=false --inflight=8 --duration=$((count * 10))s \
    >"$QKV_CLUSTER_DIR/load.out" 2>&1 &
  load_pid=$!
  for k in $(seq "$count"); do
    local old name pid start end new=""
    for _ in $(seq 100); do old=$(leader); [ -n "$old" ] && break; sleep 0.1; done
    name=$(name_of "$old")
    pid=$(cat "$QKV_CLUSTER_DIR/$name.pid")
    start=$(now)
    kill -9 "$pid"
    for _ in $(seq 300); do
      new=$(leader)
      [ -n "$new" ] && [ "$new" != "$old" ] && break
      sleep 0.05
    done
    end=$(now)
    [ -n "$new" ] && [ "$new" != "$old" ] || { echo "no new leader within 15 s" >&2; exit 1; }
    awk -v a="$start" -v b="$end" -v k="$k" -v o="$old" -v n="$new" \
      'BEGIN {printf "kill %d: leader %s killed, %s leads after %.2f s\n", k, o, n, b - a}' |
      tee -a "$QKV_CLUSTER_DIR/report"
    awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f\n", b - a}' >>"$QKV_CLUSTER_DIR/times"
    cluster up --ha >/dev/null  # starts the killed master again, a standby
  done
  wait "$load_pid" 2>/dev/null || true
  load_pid=
  echo "median failover over $count kills: $(median <"$QKV_CLUSTER_DIR/times") s (bound: --master_lease + 1 s)"
  echo "recursive put load through the three masters meanwhile:"
  grep -v "^\[" "$QKV_CLUSTER_DIR/load.out" | sed 's/^/  /'
}

# run_three WORKLOAD M1 M2 M3: three kvbench processes at once, the i-th
# given master Mi; prints their summed ops/s and ping ops/s.
run_three() {
  local workload=$1 i pids=()
  shift
  for i in 1 2 3; do
    "$bin/kvbench" --master="$1" --mode=recursive --workload="$workload" \
      --progress=false --duration=5s --baseline=3s \
      >"$QKV_CLUSTER_DIR/run$i.out" 2>/dev/null &
    pids+=($!)
    shift
  done
  wait "${pids[@]}"
  for i in 1 2 3; do
    grep -E "^(ping|$workload):" "$QKV_CLUSTER_DIR/run$i.out" | grep -o '= [0-9]* ops/s' | grep -o '[0-9]*' | tr '\n' ' '
    echo
  done | awk '{p += $1; w += $2} END {printf "%d %d\n", w, p}'
}

throughput() {
  local m1=127.0.0.1:$QKV_BASE_PORT m2=127.0.0.1:$((QKV_BASE_PORT + 1))
  local m3=127.0.0.1:$((QKV_BASE_PORT + 2)) workload label out
  for r in $(seq "$count"); do
    for workload in put get; do
      for label in 1 3; do
        if [ $label = 1 ]; then out=$(run_three $workload "$m1" "$m1" "$m1")
        else out=$(run_three $workload "$m1" "$m2" "$m3"); fi
        echo "$out" >>"$QKV_CLUSTER_DIR/$workload-$label"
        echo "$out" | awk -v r="$r" -v w="$workload" -v l="$label" \
          '{printf "round %d, %s through %d master(s): %d ops/s (%.2fx ping)\n", r, w, l, $1, $1 / $2}'
      done
    done
  done
  for workload in put get; do
    for label in 1 3; do
      awk '{printf "%d %.2f\n", $1, $1 / $2}' "$QKV_CLUSTER_DIR/$workload-$label" >"$QKV_CLUSTER_DIR/ratios"
      echo "median recursive $workload through $label master(s): $(awk '{print $1}' "$QKV_CLUSTER_DIR/ratios" | median) ops/s, $(awk '{print $2}' "$QKV_CLUSTER_DIR/ratios" | median)x ping"
    done
  done
}

"$what"
