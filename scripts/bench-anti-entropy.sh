#!/usr/bin/env bash
# Anti-entropy's repair rate (docs/benchmarks.md), on real processes on
# 127.0.0.1:
#
#   scripts/bench-anti-entropy.sh [ROUNDS] [KEYS]   (default 3, 200000)
#
# Three storage nodes (r1-r3, N=3, 64 partitions, --hint_window=1s), every
# partition compared once. Each round: the r3 node is killed (-9); once the
# hint window has passed, kvbench writes KEYS keys of 100 bytes at W=2 (the
# coordinators refuse their hints and report the partitions as diverged);
# the node is started again, and the round ends when no partition waits as
# diverged any more. Prints, per round and as medians, the rows and bytes
# anti-entropy exchanged, the time from the node being UP to the end, and
# rows/s and MB/s against the rate kvbench wrote the same rows at in the
# same round (the baseline).
set -euo pipefail
rounds=${1:-3}
keys=${2:-200000}
bench_name=anti-entropy
base=17700
source "$(dirname "$0")/bench-lib.sh"

ae_field() {  # ae_field FIELD: a number from `kvcli --json status`'s anti_entropy
  # (status exits 3 while a node is DOWN; its JSON is what we want)
  { kvcli --json status 2>/dev/null || true; } | grep -o "\"anti_entropy\": {[^}]*" |
    grep -o "\"$1\": -\\?[0-9]*" | grep -o -- '-\?[0-9]*$'
}
state_of() {  # state_of PORT
  kvcli --json nodes | grep -o "\"address\": \"127.0.0.1:$1\", \"rack\": \"[^\"]*\", \"state\": \"[A-Z]*\"" |
    grep -o '[A-Z]*"$' | tr -d '"'
}
wait_for() {  # wait_for SECONDS COMMAND...
  local until=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -lt $until ] || { echo "timed out: $*" >&2; return 1; }
    sleep 0.05
  done
}

start_master --node_down_after=2s --replace_after=10m
for i in 1 2 3; do start_node $i r$i --hint_window=1s; done
wait_for 60 kvcli status >/dev/null 2>&1
oldest_known() { [ "$(ae_field oldest_ms)" -ge 0 ] 2>/dev/null; }
wait_for 120 oldest_known

node3=$((base + 103))
is_down() { [ "$(state_of $node3)" = DOWN ]; }
is_up() { [ "$(state_of $node3)" = UP ]; }
none_diverged() { [ "$(ae_field diverged)" = 0 ]; }
rows_s=() mb_s=() load_s=() ratio=()
for round in $(seq "$rounds"); do
  kill -9 "${pids[n3]}"; wait "${pids[n3]}" 2>/dev/null || true
  wait_for 30 is_down
  sleep 1.5  # past the hint window: hints are refused from now on
  out=$("$bin/kvbench" --master=$master --workload=put --keys="$keys" \
    --value_size=100 --inflight=64 --duration=3s --w=2 --baseline=0 \
    --progress=false 2>&1)
  load=$(echo "$out" | grep -o '= [0-9]* ops/s' | grep -o '[0-9]*' | head -1)
  rows0=$(ae_field rows_exchanged); bytes0=$(ae_field bytes_exchanged)
  start_node 3 r3 --hint_window=1s
  wait_for 60 is_up
  t0=$(now)
  wait_for 600 none_diverged
  t1=$(now)
  # The last pass is reported with its node's heartbeat.
  sleep 1
  rows=$(( $(ae_field rows_exchanged) - rows0 ))
  bytes=$(( $(ae_field bytes_exchanged) - bytes0 ))
  line=$(awk -v r="$rows" -v b="$bytes" -v a="$t0" -v z="$t1" -v l="$load" 'BEGIN {
    t = z - a; printf "%d %.1f %.0f %.2f %d %.2f", r, b / 1e6, r / t, b / 1e6 / t, l, (r / t) / l }')
  read -r r mb rs ms l x <<<"$line"
  echo "round $round: $r rows, $mb MB exchanged in $(awk -v a="$t0" -v z="$t1" 'BEGIN{printf "%.2f", z-a}') s" \
       "= $rs rows/s, $ms MB/s; kvbench wrote at $l rows/s ($x x)"
  rows_s+=("$rs"); mb_s+=("$ms"); load_s+=("$l"); ratio+=("$x")
done
echo "median: $(printf '%s\n' "${rows_s[@]}" | median) rows/s," \
     "$(printf '%s\n' "${mb_s[@]}" | median) MB/s;" \
     "kvbench puts $(printf '%s\n' "${load_s[@]}" | median) rows/s;" \
     "ratio $(printf '%s\n' "${ratio[@]}" | median)x"
