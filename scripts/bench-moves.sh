#!/usr/bin/env bash
# Figures of moves (docs/benchmarks.md), on real processes on 127.0.0.1:
#
#   scripts/bench-moves.sh rereplicate [KEYS]   (default 1000000)
#     three storage nodes (r1-r3, N=3) each holding every key (100-byte
#     values); the r1 node is killed (-9) and a fresh node starts on r1;
#     after --replace_after (10s) the master re-replicates every partition
#     of the dead node onto it. Prints the bytes the dead node held, the
#     time from the first move to a healthy cluster, and MB/s.
#
#   scripts/bench-moves.sh p99 [ROUNDS] [KEYS]  (default 3, 200000)
#     foreground kvbench put (W=2, 64 in flight, 5 s) on a cluster that is
#     idle, then on the same cluster while partitions move (a node joins or
#     is decommissioned), interleaved ROUNDS times; prints each p99 and the
#     medians.
set -euo pipefail
bench_name=moves
base=17600
source "$(dirname "$0")/bench-lib.sh"

wait_healthy() {  # until every partition has N replicas UP and nothing moves
  for _ in $(seq 3000); do
    if kvcli status >/dev/null 2>&1 &&
       kvcli --json moves 2>/dev/null | grep -q '"moves": \[\]'; then
      return 0
    fi
    sleep 0.2
  done
  echo "not healthy after 600 s" >&2
  return 1
}
node_field() {  # node_field PORT FIELD: a number from `kvcli --json nodes`
  kvcli --json nodes | grep -o "\"address\": \"127.0.0.1:$1\"[^}]*" |
    grep -o "\"$2\": [0-9]*" | grep -o '[0-9]*$'
}
p99() { grep -o 'p99=[0-9.]*' | cut -d= -f2; }
ops() { grep -o '= [0-9]* ops/s' | grep -o '[0-9]*'; }

rereplicate() {
  local keys=${1:-1000000}
  start_master --replace_after=10s --node_down_after=3s
  start_node 1 r1; start_node 2 r2; start_node 3 r3
  wait_healthy
  echo "loading $keys keys of 100 bytes..."
  "$bin/kvbench" --master=$master --workload=get --keys="$keys" --value_size=100 \
    --inflight=64 --duration=1s --w=2 --r=2 >"$dir/load.txt"
  # Every node holds every key (N=3 on three nodes); wait for the stats.
  sleep 3
  local bytes keys_held
  bytes=$(node_field $((base + 101)) bytes)
  keys_held=$(node_field $((base + 101)) keys)
  kill -9 "${pids[n1]}"
  local killed first="" done
  killed=$(now)
  # The new node joins once the dead one is DOWN, so that what moves is the
  # replacement alone (a join next to an UP node would rebalance first).
  until kvcli status >/dev/null 2>&1; [ $? -eq 3 ]; do sleep 0.1; done
  start_node 4 r1
  for _ in $(seq 3000); do
    if kvcli --json moves 2>/dev/null | grep -q '"partition"'; then first=$(now); break; fi
    sleep 0.1
  done
  [ -n "$first" ] || { echo "no move started" >&2; exit 1; }
  wait_healthy
  done=$(now)
  awk -v b="$bytes" -v k="$keys_held" -v t0="$killed" -v t1="$first" -v t2="$done" 'BEGIN {
    printf "dead node held %d keys, %.1f MB\n", k, b / 1e6;
    printf "kill to first move: %.1f s (node_down_after 3s + replace_after 10s)\n", t1 - t0;
    printf "first move to healthy: %.1f s = %.1f MB/s\n", t2 - t1, b / 1e6 / (t2 - t1);
  }'
}

p99_rounds() {
  local rounds=${1:-3} keys=${2:-200000}
  start_master
  start_node 1 r1; start_node 2 r2; start_node 3 r3
  wait_healthy
  "$bin/kvbench" --master=$master --workload=get --keys="$keys" --inflight=64 \
    --duration=1s --w=2 --r=2 >/dev/null
  local bench=("$bin/kvbench" --master=$master --workload=put --keys="$keys"
               --value_size=100 --inflight=64 --duration=5s --w=2)
  local idle=() moving=() idle_ops=() moving_ops=() next=4 racks=(r1 r2 r3) out t0
  for round in $(seq "$rounds"); do
    wait_healthy
    out=$("${bench[@]}")
    idle+=("$(echo "$out" | p99)"); idle_ops+=("$(echo "$out" | ops)")
    # Moves: odd rounds a node joins, even rounds the last one leaves.
    if [ $((round % 2)) -eq 1 ]; then
      start_node $next "${racks[$(((next - 1) % 3))]}"
      for _ in $(seq 100); do node_field $((base + 100 + next)) partitions >/dev/null 2>&1 && break; sleep 0.1; done
      last=$next; next=$((next + 1))
    else
      kvcli decommission "$(kvcli --json nodes | grep -o "\"id\": \"[0-9a-f]*\", \"address\": \"127.0.0.1:$((base + 100 + last))\"" | grep -o '[0-9a-f]\{12\}')" >/dev/null
    fi
    t0=$(now)
    for _ in $(seq 100); do kvcli --json moves | grep -q '"partition"' && break; sleep 0.05; done
    out=$("${bench[@]}")
    moving+=("$(echo "$out" | p99)"); moving_ops+=("$(echo "$out" | ops)")
    wait_healthy
    echo "round $round: idle p99 ${idle[-1]} ms ${idle_ops[-1]} ops/s;" \
         "during moves p99 ${moving[-1]} ms ${moving_ops[-1]} ops/s;" \
         "moves took $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s"
  done
  local mi mm oi om
  mi=$(printf '%s\n' "${idle[@]}" | median)
  mm=$(printf '%s\n' "${moving[@]}" | median)
  oi=$(printf '%s\n' "${idle_ops[@]}" | median)
  om=$(printf '%s\n' "${moving_ops[@]}" | median)
  awk -v i="$mi" -v m="$mm" -v oi="$oi" -v om="$om" 'BEGIN {
    printf "median p99: idle %.2f ms, during moves %.2f ms (%.2fx idle)\n", i, m, m / i;
    printf "median ops/s: idle %d, during moves %d (%.2fx idle)\n", oi, om, om / oi }'
}

case "${1:-}" in
  rereplicate) shift; rereplicate "$@" ;;
  p99) shift; p99_rounds "$@" ;;
  *) echo "usage: $0 rereplicate [KEYS] | p99 [ROUNDS] [KEYS]" >&2; exit 2 ;;
esac
