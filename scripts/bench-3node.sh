#!/usr/bin/env bash
# The headline figures of docs/benchmarks.md: a master and three storage
# nodes (N=3) on 127.0.0.1; kvbench ping, put and get in iterative and
# recursive mode with W=2 R=2, interleaved over several rounds so that the
# machine's noise hits every configuration alike; prints the median ops/s
# and p99 of each configuration, its median ratio to the ping of the same
# round and in-flight count ("x ping"), and the CPU each server spent per
# operation (from /proc, over the measured run only).
#
#   scripts/bench-3node.sh [--rounds=3] [--duration=5s] [--full] [--data-api] [--sync] [--tls] [--keep]
#
# --full adds 1 KiB and 16 KiB values and 16 and 256 requests in flight.
# --data-api adds batch gets and puts of 16 keys a call (figures per key),
#   counter increments (Paxos; the master declares counter/ linearizable)
#   in both modes, and whole-keyspace scans (keys/s).
# --sync starts the nodes with --sync_writes.
# --tls also starts a second, identical cluster with mutual TLS on every
#   connection (certificates from deploy/make-certs.sh); every
#   configuration runs on both clusters, one after the other in each round,
#   and a second table gives the TLS cluster's figures with their ratio to
#   the plaintext cluster's of the same round ("x plain").
# --keep leaves the servers' logs and data in the printed directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build/bin
rounds=3 duration=5s full=0 data_api=0 keep=0 tls=0 node_flags=()
for arg in "$@"; do
  case $arg in
    --rounds=*) rounds=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    --full) full=1 ;;
    --data-api) data_api=1 ;;
    --sync) node_flags+=(--sync_writes) ;;
    --keep) keep=1 ;;
    --tls) tls=1 ;;
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

# start_cluster NAME BASE [FLAGS...]: a master on BASE and nodes on
# BASE+101..103, each with FLAGS (a %s in a flag stands for the daemon's
# name); their pids go to pids and pids_NAME.
declare -A cluster_pids
start_cluster() {
  local name=$1 at=$2 d; shift 2
  d="$dir/$name"
  mkdir -p "$d"
  local extra=()
  for f in "$@"; do extra+=("${f//%s/master}"); done
  "$bin/kv_master" --listen=127.0.0.1:$at --data_dir="$d/m" --initial_nodes=3 \
    --linearizable_prefixes=counter/ "${extra[@]}" 2>"$d/m.log" &
  pids+=($!) cluster_pids[$name]="$!"
  for i in 1 2 3; do
    extra=()
    for f in "$@"; do extra+=("${f//%s/node$i}"); done
    "$bin/kv_storage_node" --listen=127.0.0.1:$((at + 100 + i)) \
      --master=127.0.0.1:$at --rack=r$i --data_dir="$d/n$i" "${node_flags[@]}" "${extra[@]}" 2>"$d/n$i.log" &
    pids+=($!) cluster_pids[$name]="${cluster_pids[$name]} $!"
  done
}
# client_flags NAME: what kvcli and kvbench need to reach cluster NAME.
declare -A client_flags=([plain]="--master=127.0.0.1:$base")
start_cluster plain "$base"
clusters=(plain)
if [ "$tls" = 1 ]; then
  "$root/deploy/make-certs.sh" "$dir/certs" master node1 node2 node3 client
  start_cluster tls $((base + 200)) "--tls_dir=$dir/certs/%s"
  client_flags[tls]="--master=127.0.0.1:$((base + 200)) --tls_dir=$dir/certs/client"
  clusters+=(tls)
fi
for c in "${clusters[@]}"; do
  up=0
  for _ in $(seq 300); do
    # shellcheck disable=SC2086
    up=$("$bin/kvcli" ${client_flags[$c]} --json nodes 2>/dev/null | grep -o '"UP"' | wc -l || true)
    [ "$up" -eq 3 ] && break
    sleep 0.1
  done
  [ "$up" -eq 3 ] || { echo "bench-3node.sh: the $c cluster did not come up; logs in $dir" >&2; keep=1; exit 1; }
done

# One configuration per line: NAME WORKLOAD MODE VALUE_SIZE INFLIGHT.
configs=(
  "ping ping iterative 100 64"
  "put-iterative put iterative 100 64"
  "get-iterative get iterative 100 64"
  "put-recursive put recursive 100 64"
  "get-recursive get recursive 100 64"
)
if [ "$data_api" = 1 ]; then
  configs+=(
    "mget-iterative mget iterative 100 64"
    "mput-iterative mput iterative 100 64"
    "mget-recursive mget recursive 100 64"
    "incr-iterative incr iterative 100 64"
    "incr-recursive incr recursive 100 64"
    "scan-keys scan iterative 100 64"
  )
fi
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
# ticks CLUSTER: user+system CPU of its master and each node, in 1/100 s.
ticks() { for pid in ${cluster_pids[$1]}; do awk '{printf "%d ", $14 + $15}' "/proc/$pid/stat"; done; }
# key CLUSTER NAME: where a configuration's figures of a cluster are kept.
key() { if [ "$1" = plain ]; then echo "$2"; else echo "$1:$2"; fi; }
declare -A ops p99 preloaded cpu
for round in $(seq "$rounds"); do
  for config in "${configs[@]}"; do
    read -r name workload mode size inflight <<<"$config"
    for c in "${clusters[@]}"; do
      k=$(key "$c" "$name")
      if [[ $workload =~ ^(get|mget|scan)$ ]] && [ -z "${preloaded[$c,$size]:-}" ]; then
        preloaded[$c,$size]=1
        # Preload apart, so that its CPU is not counted against the gets.
        # shellcheck disable=SC2086
        "$bin/kvbench" ${client_flags[$c]} --workload=get --value_size="$size" \
          --keys=10000 --duration=1ms --baseline=0 --progress=false >/dev/null
      fi
      before=$(ticks "$c")
      # shellcheck disable=SC2086
      out=$("$bin/kvbench" ${client_flags[$c]} --mode="$mode" --workload="$workload" \
        --w=2 --r=2 --value_size="$size" --inflight="$inflight" --keys=10000 \
        --duration="$duration" --baseline=0 --preload=false --progress=false --json)
      after=$(ticks "$c")
      n=$(field "$out" ok)
      ops[$k]="${ops[$k]:-} $(field "$out" ops_per_sec)"
      p99[$k]="${p99[$k]:-} $(field "$out" p99)"
      # Server CPU per operation, in microseconds: master, then each node.
      i=0
      for b in $before; do
        a=$(cut -d' ' -f$((i + 1)) <<<"$after")
        cpu[$k,$i]="${cpu[$k,$i]:-} $(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN {printf "%.1f", (a - b) * 10000 / (n > 0 ? n : 1)}')"
        i=$((i + 1))
      done
      echo "round $round $k: $(field "$out" ops_per_sec) ops/s p99 $(field "$out" p99) ms" >&2
    done
  done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
# ratios A B: the per-round quotients of two lists of equal length.
ratios() { paste <(tr ' ' '\n' <<<"$1" | grep .) <(tr ' ' '\n' <<<"$2" | grep .) | awk '{printf "%s ", $1/$2}'; }

for c in "${clusters[@]}"; do
  printf '\n%s rounds of %s each, W=2 R=2, 3 nodes on 127.0.0.1%s\n' "$rounds" "$duration" \
    "$([ "$c" = tls ] && echo ', mutual TLS; x plain: ratio to the plaintext cluster in the same round')"
  if [ "$c" = plain ]; then
    printf '%-22s %10s %9s %9s %10s   %s\n' configuration ops/s "x ping" "p99 ms" "p99 x ping" \
      "server CPU us/op: master n1 n2 n3"
  else
    printf '%-22s %10s %9s %9s %9s %10s %11s   %s\n' configuration ops/s "x ping" "x plain" \
      "p99 ms" "p99 x ping" "p99 x plain" "server CPU us/op: master n1 n2 n3"
  fi
  for config in "${configs[@]}"; do
    read -r name workload mode size inflight <<<"$config"
    ping=ping
    [ "$inflight" != 64 ] && ping=ping-$inflight
    k=$(key "$c" "$name") kp=$(key "$c" "$ping")
    if [ "$c" = plain ]; then
      printf '%-22s %10.0f %9.2f %9.3f %10.2f   %s %s %s %s\n' "$name" "$(median "${ops[$k]}")" \
        "$(median "$(ratios "${ops[$k]}" "${ops[$kp]}")")" \
        "$(median "${p99[$k]}")" \
        "$(median "$(ratios "${p99[$k]}" "${p99[$kp]}")")" \
        "$(median "${cpu[$k,0]}")" "$(median "${cpu[$k,1]}")" \
        "$(median "${cpu[$k,2]}")" "$(median "${cpu[$k,3]}")"
    else
      printf '%-22s %10.0f %9.2f %9.2f %9.3f %10.2f %11.2f   %s %s %s %s\n' "$name" "$(median "${ops[$k]}")" \
        "$(median "$(ratios "${ops[$k]}" "${ops[$kp]}")")" \
        "$(median "$(ratios "${ops[$k]}" "${ops[$name]}")")" \
        "$(median "${p99[$k]}")" \
        "$(median "$(ratios "${p99[$k]}" "${p99[$kp]}")")" \
        "$(median "$(ratios "${p99[$k]}" "${p99[$name]}")")" \
        "$(median "${cpu[$k,0]}")" "$(median "${cpu[$k,1]}")" \
        "$(median "${cpu[$k,2]}")" "$(median "${cpu[$k,3]}")"
    fi
  done
done
