#!/usr/bin/env bash
# Installs the Debian 12 packages QuorumKV needs to build, if any are
# missing; with --tests also what the tests need (clang and its
# libFuzzer, chromium, python3-yaml, etcd); with --ha what replicated
# masters need (etcd, for `deploy/local-cluster.sh up --ha`); with
# --clients the Redis and memcached clients that talk to the front doors
# (redis-cli, redis-benchmark, python3-redis, pymemcache, memcslap).
# Non-interactive; needs root (or sudo).
set -euo pipefail

PACKAGES=(
  cmake g++ make pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev librocksdb-dev libxxhash-dev libgtest-dev libgmock-dev
  libbenchmark-dev prometheus-cpp-dev libmicrohttpd-dev libssl-dev
  libevent-dev  # the Redis and memcached front doors' sockets
  openssl  # certificates for TLS (deploy/make-certs.sh)
  curl  # the README's look at /metrics, /healthz and /api/status
)
case "${1:-}" in
  --tests)
    # clang: the build that checks the lock annotations; libclang-rt-dev:
    # its libFuzzer and sanitizers, for the fuzz tests; chromium: the
    # status page test (headless); python3-yaml: the compose file check;
    # etcd-server: the replicated masters' tests; the Redis and memcached
    # servers, tools and Python clients: the front doors' tests, which
    # compare the doors' replies with the real servers'.
    PACKAGES+=(clang libclang-rt-dev chromium python3-yaml etcd-server
      redis-server redis-tools memcached libmemcached-tools python3-redis
      python3-pymemcache) ;;
  --ha)
    PACKAGES+=(etcd-server) ;;
  --clients)
    PACKAGES+=(redis-tools python3-redis python3-pymemcache libmemcached-tools) ;;
  "") ;;
  *) echo "usage: $0 [--tests|--ha|--clients]" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing missing packages: ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "error: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  }
  SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
