# Shared by the benchmark scripts that start their own cluster on 127.0.0.1
# (bench-moves.sh, bench-anti-entropy.sh, bench-doors.sh); sourced, not run. The caller
# sets `base` (the master's port; node I listens on base+100+I) and
# `bench_name` first. Builds what is missing, makes a scratch directory for
# data and logs, and at exit kills every daemon recorded in `pids` and
# removes the directory.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$root/build/bin
[ -x "$bin/kvbench" ] || { "$root/scripts/install-deps.sh"; "$root/scripts/build.sh"; }

dir=$(mktemp -d "/tmp/qkv-$bench_name-XXXXXX")
master=127.0.0.1:$base
declare -A pids
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

kvcli() { "$bin/kvcli" --master=$master "$@"; }
start_master() {  # start_master [FLAGS...]
  "$bin/kv_master" --listen=$master --data_dir="$dir/m" --initial_nodes=3 "$@" \
    2>>"$dir/m.log" &
  pids[m]=$!
}
start_node() {  # start_node I RACK [FLAGS...]
  local i=$1 rack=$2; shift 2
  "$bin/kv_storage_node" --listen=127.0.0.1:$((base + 100 + i)) --master=$master \
    --rack="$rack" --data_dir="$dir/n$i" "$@" 2>>"$dir/n$i.log" &
  pids[n$i]=$!
}
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
