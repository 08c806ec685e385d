#!/usr/bin/env bash
# The first kvbench figure (docs/benchmarks.md): a master and three storage
# nodes (N=3) on 127.0.0.1, then kvbench put and get in iterative and
# recursive mode with W=2 R=2, 100-byte values, 64 in flight, 10 s each.
#
#   scripts/bench-3node.sh [DURATION]     (default 10s)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/bin
duration=${1:-10s}
[ -x "$bin/kvbench" ] || { "$root/scripts/install-deps.sh"; "$root/scripts/build.sh"; }

dir=$(mktemp -d /tmp/qkv-bench-XXXXXX)
base=17400
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

"$bin/kv_master" --listen=127.0.0.1:$base --data_dir="$dir/m" --initial_nodes=3 2>"$dir/m.log" &
pids+=($!)
for i in 1 2 3; do
  "$bin/kv_storage_node" --listen=127.0.0.1:$((base + 100 + i)) \
    --master=127.0.0.1:$base --rack=r$i --data_dir="$dir/n$i" 2>"$dir/n$i.log" &
  pids+=($!)
done
for _ in $(seq 100); do
  [ "$("$bin/kvcli" --master=127.0.0.1:$base --json nodes 2>/dev/null | grep -o '"UP"' | wc -l)" -eq 3 ] && break
  sleep 0.1
done

for workload in put get; do
  for mode in iterative recursive; do
    echo "== $workload $mode"
    "$bin/kvbench" --master=127.0.0.1:$base --mode=$mode --workload=$workload \
      --w=2 --r=2 --value_size=100 --inflight=64 --keys=10000 --duration="$duration"
  done
done
