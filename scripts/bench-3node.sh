#!/usr/bin/env bash
# The headline figures of docs/benchmarks.md: a master and three storage
# nodes (N=3) on 127.0.0.1; kvbench ping, put and get in iterative and
# recursive mode with W=2 R=2, interleaved over several rounds so that the
# machine's noise hits every configuration alike; prints the median ops/s
# and p99 of each configuration, its median ratio to the ping of the same
# round and in-flight count ("x ping"), and the CPU each server spent per
# operation (from /proc, over the measured run only).
#
#   scripts/bench-3node.sh [--rounds=3] [--duration=5s] [--full] [--sync] [--keep]
#
# --full adds 1 KiB and 16 KiB values and 16 and 256 requests in flight.
# --sync starts the nodes with --sync_writes.
# --keep leaves the servers' logs and data in the printed directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/bin
rounds=3 duration=5s full=0 keep=0 node_flags=()
for arg in "$@"; do
  case $arg in
    --rounds=*) rounds=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    --full) full=1 ;;
    --sync) node_flags+=(--sync_writes) ;;
    --keep) keep=1 ;;
    *) echo "bench-3node.sh: unknown argument $arg (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench-3node.sh: --rounds must be a positive number" >&2; exit 2; }
"$root/scripts/install-deps.sh" >/dev/null
"$root/scripts/build.sh" >/dev/null

dir=$(mktemp -d /tmp/qkv-bench-XXXXXX)
base=$((20000 + RANDOM % 20000))
pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$keep" = 1 ]; then echo "logs and data: $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

"$bin/kv_master" --listen=127.0.0.1:$base --data_dir="$dir/m" --initial_nodes=3 2>"$dir/m.log" &
pids+=($!)
for i in 1 2 3; do
  "$bin/kv_storage_node" --listen=127.0.0.1:$((base + 100 + i)) \
    --master=127.0.0.1:$base --rack=r$i --data_dir="$dir/n$i" "${node_flags[@]}" 2>"$dir/n$i.log" &
  pids+=($!)
done
up=0
for _ in $(seq 300); do
  up=$("$bin/kvcli" --master=127.0.0.1:$base --json nodes 2>/dev/null | grep -o '"UP"' | wc -l || true)
  [ "$up" -eq 3 ] && break
  sleep 0.1
done
[ "$up" -eq 3 ] || { echo "bench-3node.sh: the cluster did not come up; logs in $dir" >&2; keep=1; exit 1; }

# One configuration per line: NAME WORKLOAD MODE VALUE_SIZE INFLIGHT.
configs=(
  "ping ping iterative 100 64"
  "put-iterative put iterative 100 64"
  "get-iterative get iterative 100 64"
  "put-recursive put recursive 100 64"
  "get-recursive get recursive 100 64"
)
if [ "$full" = 1 ]; then
  configs+=(
    "put-iterative-1KiB put iterative 1024 64"
    "get-iterative-1KiB get iterative 1024 64"
    "put-iterative-16KiB put iterative 16384 64"
    "get-iterative-16KiB get iterative 16384 64"
    "ping-16 ping iterative 100 16"
    "put-iterative-16 put iterative 100 16"
    "get-iterative-16 get iterative 100 16"
    "ping-256 ping iterative 100 256"
    "put-iterative-256 put iterative 100 256"
    "get-iterative-256 get iterative 100 256"
  )
fi

# field JSON KEY: the first number after "KEY": in the run object.
field() { grep -o "\"run\": {.*" <<<"$1" | grep -o "\"$2\": [0-9.]*" | head -1 | awk '{print $2}'; }
# ticks: user+system CPU of the master and each node, in 1/100 s.
ticks() { for pid in "${pids[@]}"; do awk '{printf "%d ", $14 + $15}' "/proc/$pid/stat"; done; }
declare -A ops p99 preloaded cpu
for round in $(seq "$rounds"); do
  for config in "${configs[@]}"; do
    read -r name workload mode size inflight <<<"$config"
    preload=false
    if [ "$workload" = get ] && [ -z "${preloaded[$size]:-}" ]; then
      preload=true preloaded[$size]=1
    fi
    if [ "$preload" = true ]; then
      # Preload apart, so that its CPU is not counted against the gets.
      "$bin/kvbench" --master=127.0.0.1:$base --workload=get --value_size="$size" \
        --keys=10000 --duration=1ms --baseline=0 --progress=false >/dev/null
    fi
    before=$(ticks)
    out=$("$bin/kvbench" --master=127.0.0.1:$base --mode="$mode" --workload="$workload" \
      --w=2 --r=2 --value_size="$size" --inflight="$inflight" --keys=10000 \
      --duration="$duration" --baseline=0 --preload=false --progress=false --json)
    after=$(ticks)
    n=$(field "$out" ok)
    ops[$name]="${ops[$name]:-} $(field "$out" ops_per_sec)"
    p99[$name]="${p99[$name]:-} $(field "$out" p99)"
    # Server CPU per operation, in microseconds: master, then each node.
    i=0
    for b in $before; do
      a=$(cut -d' ' -f$((i + 1)) <<<"$after")
      cpu[$name,$i]="${cpu[$name,$i]:-} $(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN {printf "%.1f", (a - b) * 10000 / (n > 0 ? n : 1)}')"
      i=$((i + 1))
    done
    echo "round $round $name: $(field "$out" ops_per_sec) ops/s p99 $(field "$out" p99) ms" >&2
  done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
# ratios A B: the per-round quotients of two lists of equal length.
ratios() { paste <(tr ' ' '\n' <<<"$1" | grep .) <(tr ' ' '\n' <<<"$2" | grep .) | awk '{printf "%s ", $1/$2}'; }

printf '\n%s rounds of %s each, W=2 R=2, 3 nodes on 127.0.0.1\n' "$rounds" "$duration"
printf '%-22s %10s %9s %9s %10s   %s\n' configuration ops/s "x ping" "p99 ms" "p99 x ping" \
  "server CPU us/op: master n1 n2 n3"
for config in "${configs[@]}"; do
  read -r name workload mode size inflight <<<"$config"
  ping=ping
  [ "$inflight" != 64 ] && ping=ping-$inflight
  printf '%-22s %10.0f %9.2f %9.3f %10.2f   %s %s %s %s\n' "$name" "$(median "${ops[$name]}")" \
    "$(median "$(ratios "${ops[$name]}" "${ops[$ping]}")")" \
    "$(median "${p99[$name]}")" \
    "$(median "$(ratios "${p99[$name]}" "${p99[$ping]}")")" \
    "$(median "${cpu[$name,0]}")" "$(median "${cpu[$name,1]}")" \
    "$(median "${cpu[$name,2]}")" "$(median "${cpu[$name,3]}")"
done
