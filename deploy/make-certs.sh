#!/usr/bin/env bash
# Makes what mutual TLS needs (docs/operations.md, "Security"): a
# certificate authority and, for each NAME, a directory DIR/NAME holding
# ca.pem, cert.pem and key.pem, ready for a daemon's --tls_dir or a
# client's --tls_dir / $KV_TLS_DIR.
#
#   deploy/make-certs.sh DIR NAME [NAME ...]
#
# The CA (DIR/ca.pem, its key DIR/ca-key.pem) is made once and reused, so
# that names added later join the same cluster; an identity that exists is
# kept. Each certificate names NAME, localhost and 127.0.0.1 (and the
# hosts in $QKV_CERT_HOSTS, space-separated), and serves as both a server
# and a client certificate: daemons call each other. Keys are EC P-256,
# readable by their owner only. Needs openssl.
set -euo pipefail

usage() { echo "usage: $0 DIR NAME [NAME ...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
dir=$1; shift
command -v openssl >/dev/null || { echo "make-certs: openssl is not installed (apt-get install openssl)" >&2; exit 1; }
for name in "$@"; do
  [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] ||
    { echo "make-certs: '$name' is not a name (letters, digits, . _ -)" >&2; exit 2; }
done

mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.pem" ] || [ ! -f "$dir/ca-key.pem" ]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -nodes -keyout "$dir/ca-key.pem" -out "$dir/ca.pem" -days 3650 \
    -subj "/CN=QuorumKV CA $(date -u +%Y%m%dT%H%M%S)" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 644 "$dir/ca.pem"
fi

for name in "$@"; do
  out="$dir/$name"
  if [ -f "$out/cert.pem" ] && [ -f "$out/key.pem" ]; then continue; fi
  mkdir -p "$out"
  sans="DNS:$name,DNS:localhost,IP:127.0.0.1"
  for host in ${QKV_CERT_HOSTS:-}; do
    if [[ "$host" =~ ^[0-9.]+$ ]]; then sans+=",IP:$host"; else sans+=",DNS:$host"; fi
  done
  ext=$(mktemp)
  printf '%s\n' "subjectAltName=$sans" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth" >"$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$out/key.pem" -out "$out/request.csr" -subj "/CN=$name" 2>/dev/null
  openssl x509 -req -in "$out/request.csr" -CA "$dir/ca.pem" \
    -CAkey "$dir/ca-key.pem" -CAcreateserial -CAserial "$dir/ca.srl" \
    -out "$out/cert.pem" -days 825 -extfile "$ext" 2>/dev/null
  rm -f "$ext" "$out/request.csr"
  cp "$dir/ca.pem" "$out/ca.pem"
  chmod 644 "$out/cert.pem" "$out/ca.pem"
  chmod 600 "$out/key.pem"
done
