#!/usr/bin/env bash
# What a large directory costs a new iterative client (docs/benchmarks.md):
# a master with P partitions (default 65 536) and three storage nodes on
# 127.0.0.1; each round times one `kvcli get` in iterative mode (which
# downloads the directory before it routes) and one in recursive mode
# (which does not), interleaved ROUNDS times; prints the medians and their
# ratio. Then, once anti-entropy has compared every partition, the CPU the
# idle master and a node use over 10 s (heartbeats, watches, scheduling).
#
#   scripts/bench-directory.sh [ROUNDS] [PARTITIONS]    (default 15, 65536)
set -euo pipefail
bench_name=directory
base=17700
rounds=${1:-15}
partitions=${2:-65536}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench-directory.sh: ROUNDS must be a positive number" >&2; exit 2; }
[[ $partitions =~ ^[1-9][0-9]*$ ]] || { echo "bench-directory.sh: PARTITIONS must be a positive number" >&2; exit 2; }
source "$(dirname "$0")/bench-lib.sh"

start_master --partitions="$partitions"
for i in 1 2 3; do start_node "$i" "r$i"; done
for _ in $(seq 600); do
  kvcli put bench-key v >/dev/null 2>&1 && break
  sleep 0.1
done
kvcli get bench-key >/dev/null

# timed MODE: seconds one `kvcli --mode=MODE get` takes, start to exit.
timed() {
  local start end
  start=$(now)
  kvcli --mode="$1" get bench-key >/dev/null
  end=$(now)
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.4f\n", b - a}'
}
: >"$dir/iterative"; : >"$dir/recursive"
for _ in $(seq "$rounds"); do
  timed iterative >>"$dir/iterative"
  timed recursive >>"$dir/recursive"
done
it=$(median <"$dir/iterative")
rec=$(median <"$dir/recursive")
echo "P=$partitions, $rounds rounds, medians: kvcli get iterative ${it} s, recursive ${rec} s"
awk -v a="$it" -v b="$rec" 'BEGIN {printf "iterative / recursive: %.2fx\n", a / b}'

for _ in $(seq 600); do
  kvcli --json status 2>/dev/null | grep -q "\"compared\": $partitions," && break
  sleep 1
done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
m0=$(ticks "${pids[m]}"); n0=$(ticks "${pids[n1]}")
sleep 10
m1=$(ticks "${pids[m]}"); n1=$(ticks "${pids[n1]}")
hz=$(getconf CLK_TCK)
awk -v m=$((m1 - m0)) -v n=$((n1 - n0)) -v hz="$hz" \
  'BEGIN {printf "idle, every partition compared: master %.1f%%, node %.1f%% of a core\n", 100 * m / hz / 10, 100 * n / hz / 10}'
