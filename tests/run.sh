#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, in-process
# cluster, real-process fault and system tests) with CTest; then builds
# everything again with clang, whose thread-safety analysis of the lock
# annotations fails the build on any violation (scripts/build-clang.sh), and
# runs the fuzz tests that exist in that build only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh" --tests
"$root/scripts/build.sh"
(cd "$root/build" && ctest --output-on-failure -j2 "$@")
echo "building with clang (-Werror=thread-safety)"
"$root/scripts/build-clang.sh" >/dev/null
echo "clang build: clean"
# The fuzz tests (libFuzzer) exist in the clang build only: the on-disk row
# and hint decoders and the request checks, each fuzzed for 20 seconds.
(cd "$root/build-clang" && ctest -L fuzz --output-on-failure -j2)
