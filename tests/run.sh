#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (unit, in-process
# cluster, system) with CTest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "$root/build"
ctest --output-on-failure -j2 "$@"
