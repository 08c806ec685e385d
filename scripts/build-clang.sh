#!/usr/bin/env bash
# Configures (once) and builds QuorumKV with clang into build-clang/, two
# jobs, with clang's thread-safety analysis of the lock annotations turned
# into errors. The tests run from the default (gcc) build; this one proves
# that the code builds clean with clang and that every lock annotation holds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$root/build-clang/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$root/build-clang" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$root/build-clang" -j2 "$@"
