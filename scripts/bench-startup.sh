#!/usr/bin/env bash
# Start-up time and memory of a storage node holding many keys
# (docs/benchmarks.md): a master and one storage node (N=1) on 127.0.0.1;
# the node is stopped, its engine filled offline with KEYS keys of 100 B
# (build/bin/fill_engine), then restarted; prints the time from its start
# until a get is answered, and its RSS then and after a 10 s get load.
#
#   scripts/bench-startup.sh [KEYS]     (default 10000000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/bin
keys=${1:-10000000}
[[ $keys =~ ^[1-9][0-9]*$ ]] || { echo "bench-startup.sh: KEYS must be a positive number" >&2; exit 2; }
"$root/scripts/install-deps.sh" >/dev/null
"$root/scripts/build.sh" >/dev/null

dir=$(mktemp -d /tmp/qkv-startup-XXXXXX)
base=$((20000 + RANDOM % 20000))
master=127.0.0.1:$base
node_pid=
cleanup() {
  kill "$master_pid" ${node_pid:+"$node_pid"} 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
start_node() {
  "$bin/kv_storage_node" --listen=127.0.0.1:$((base + 101)) --master=$master \
    --rack=r1 --data_dir="$dir/n1" 2>>"$dir/n1.log" &
  node_pid=$!
}
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$node_pid/status"; }

"$bin/kv_master" --listen=$master --data_dir="$dir/m" --replication=1 --initial_nodes=1 2>"$dir/m.log" &
master_pid=$!
start_node
for _ in $(seq 300); do
  "$bin/kvcli" --master=$master put bench-probe x >/dev/null 2>&1 && break
  sleep 0.1
done
kill "$node_pid"; wait "$node_pid" || true

echo "filling $keys keys of 100 B..."
"$bin/fill_engine" "$dir/n1/db" "$keys" 64 100
echo "data dir: $(du -sh "$dir/n1" | cut -f1)"

# restart WHAT: starts the node and prints the seconds until a get of an
# existing key is answered.
restart() {
  local start ready
  start=$(date +%s.%N)
  start_node
  for _ in $(seq 3000); do
    "$bin/kvcli" --master=$master --timeout=1s get bench-$((keys / 2)) >/dev/null 2>&1 && break
    sleep 0.01
  done
  ready=$(date +%s.%N)
  awk -v a="$start" -v b="$ready" -v what="$1" \
    'BEGIN {printf "restart to serving %s: %.2f s\n", what, b - a}'
}

restart "(data dir written and closed cleanly)"
echo "RSS when serving: $(rss_mib) MiB"
"$bin/kvbench" --master=$master --workload=get --keys="$keys" --preload=false \
  --baseline=0 --progress=false --duration=10s --w=1 --r=1 | grep -E "^get:"
echo "RSS after 10 s of gets over every key: $(rss_mib) MiB"
"$bin/kvbench" --master=$master --workload=put --keys="$keys" \
  --baseline=0 --progress=false --duration=10s --w=1 --r=1 | grep -E "^put:"
echo "RSS after 10 s of puts: $(rss_mib) MiB"
# A crash under write load: RocksDB replays its write-ahead log.
kill -9 "$node_pid"; wait "$node_pid" 2>/dev/null || true
restart "after kill -9 under puts"
# A clean stop flushes, so nothing is replayed.
kill "$node_pid"; wait "$node_pid" 2>/dev/null || true
restart "after a clean stop"
