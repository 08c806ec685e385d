#!/usr/bin/env bash
# The front doors against the servers they stand in for, in one run on this
# machine: a master and three storage nodes (N=3, W=2, R=2) with their
# Redis and memcached doors, a redis-server and a memcached, all on
# 127.0.0.1. Rounds interleave every configuration so that the machine's
# noise hits each alike; prints the median of each and its ratio to the
# real server's median.
#
#   scripts/bench-doors.sh [--rounds=3] [--requests=100000]
#
# redis-benchmark SET and GET, 100-byte values, 64 connections, unpipelined
# (-P 1) and pipelined (-P 16), against node 1's door and redis-server;
# memcslap set and get, 64 connections, against node 1's memcached door
# and memcached.
set -euo pipefail
rounds=3 requests=100000
for arg in "$@"; do
  case $arg in
    --rounds=*) rounds=${arg#*=} ;;
    --requests=*) requests=${arg#*=} ;;
    *) echo "bench-doors.sh: unknown argument $arg (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench-doors.sh: --rounds must be a positive number" >&2; exit 2; }
[[ $requests =~ ^[1-9][0-9]*$ ]] || { echo "bench-doors.sh: --requests must be a positive number" >&2; exit 2; }
base=$((20000 + RANDOM % 20000)) bench_name=doors
source "$(dirname "$0")/bench-lib.sh"
# redis-server, memcached and their benchmark tools.
"$root/scripts/install-deps.sh" --tests >/dev/null

start_master
for i in 1 2 3; do
  start_node $i r$i --redis_listen=127.0.0.1:$((base + 200 + i)) \
    --memcached_listen=127.0.0.1:$((base + 210 + i))
done
redis_port=$((base + 300)) memcached_port=$((base + 301))
redis-server --port $redis_port --bind 127.0.0.1 --save "" --appendonly no \
  >"$dir/redis.log" 2>&1 &
pids[redis]=$!
memcached -l 127.0.0.1 -p $memcached_port -U 0 -u nobody -t 2 >"$dir/memcached.log" 2>&1 &
pids[memcached]=$!
door=$((base + 201)) mcdoor=$((base + 211))
deadline=$((SECONDS + 60))
until [ "$(redis-cli -p $door cluster info 2>/dev/null | grep -c cluster_state:ok)" = 1 ]; do
  [ $SECONDS -lt $deadline ] || { echo "bench-doors.sh: the cluster did not form: $(tail -n 2 "$dir/m.log")" >&2; exit 1; }
  sleep 0.2
done

# rate_redis PORT TEST PIPELINE: requests per second redis-benchmark reports.
rate_redis() {
  redis-benchmark -p "$1" -t "$2" -n "$requests" -c 64 -P "$3" -d 100 -r 100000 --csv 2>/dev/null |
    awk -F'"' 'NR > 1 { print $4; exit }'
}
# rate_memcached PORT TEST: operations per second from memcslap's timing.
rate_memcached() {
  memcslap --servers=127.0.0.1:"$1" --test="$2" --concurrency=64 \
    --execute-number=$((requests / 64)) 2>&1 |
    awk -v n=$(((requests / 64) * 64)) -v test="$2" '$0 ~ "^Time to " test " .* by " { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/) t = $i; print n / t; exit }'
}

configs=("redis SET -P 1" "redis GET -P 1" "redis SET -P 16" "redis GET -P 16"
         "memcached set" "memcached get")
declare -A ours theirs
for round in $(seq "$rounds"); do
  for c in "${configs[@]}"; do
    read -r kind test _ pipe <<<"$c"
    if [ "$kind" = redis ]; then
      ours[$c]+="$(rate_redis $door "$test" "$pipe") "
      theirs[$c]+="$(rate_redis $redis_port "$test" "$pipe") "
    else
      ours[$c]+="$(rate_memcached $mcdoor "$test") "
      theirs[$c]+="$(rate_memcached $memcached_port "$test") "
    fi
  done
  echo "round $round of $rounds done" >&2
done

printf '%-22s %14s %14s %10s\n' "configuration" "door ops/s" "server ops/s" "x server"
for c in "${configs[@]}"; do
  o=$(tr ' ' '\n' <<<"${ours[$c]}" | grep . | median)
  t=$(tr ' ' '\n' <<<"${theirs[$c]}" | grep . | median)
  printf '%-22s %14.0f %14.0f %10.2f\n' "$c" "$o" "$t" "$(awk -v o="$o" -v t="$t" 'BEGIN { print o / t }')"
done
echo "(medians of $rounds interleaved rounds, $requests requests each; N=3 W=2 R=2, 100-byte values, 64 connections)"
