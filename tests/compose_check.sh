#!/usr/bin/env bash
# Checks deploy/docker-compose.yml without a Docker engine: it parses, has
# three masters on a 3-member etcd and six nodes on racks r1-r3 with
# distinct ports and volumes, every command's flags are flags our binaries
# define, every service has a health check (ours on their own /healthz over
# HTTPS), the image is built once (by the master) and never pulled, the
# status page and every node's Redis and memcached doors are published,
# the masters name every etcd member and nodes
# every master, and TLS is on: a one-shot `certs` service makes every
# daemon's certificate, and every daemon waits for it and runs with
# --tls_dir of its own. Exits 77 (skipped) where python3 with PyYAML is
# missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/bin}
python3 -c "import yaml" 2>/dev/null || { echo "SKIP: python3 with PyYAML not installed"; exit 77; }
master_flags=$( ("$bin/kv_master" --help 2>&1 || true) | grep -o -- '-[a-z_]*' | sed 's/^-//' | sort -u)
node_flags=$( ("$bin/kv_storage_node" --help 2>&1 || true) | grep -o -- '-[a-z_]*' | sed 's/^-//' | sort -u)
MASTER_FLAGS="$master_flags" NODE_FLAGS="$node_flags" python3 - "$root/deploy/docker-compose.yml" "$root/deploy/Dockerfile" <<'PY'
import os, re, sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
dockerfile = open(sys.argv[2]).read()
services = spec["services"]
known = {"kv_master": set(os.environ["MASTER_FLAGS"].split()),
         "kv_storage_node": set(os.environ["NODE_FLAGS"].split())}
errors = []
certs = services.pop("certs", None)
etcds = {n: s for n, s in services.items() if (s.get("command") or [""])[0] == "etcd"}
for n in etcds: services.pop(n)
masters = {n: s for n, s in services.items() if (s.get("command") or [""])[0] == "kv_master"}
nodes = {n: s for n, s in services.items() if n not in masters}
if "master" not in services: errors.append("no master service")
if len(masters) != 3: errors.append(f"{len(masters)} masters, want 3")
if len(etcds) != 3: errors.append(f"{len(etcds)} etcd members, want 3")
if len(nodes) != 6: errors.append(f"{len(nodes)} storage nodes, want 6")
if not re.search(r"\betcd-server\b", dockerfile.split("FROM ")[-1]):
    errors.append("Dockerfile: runtime image lacks etcd-server, which the etcd services run")
etcd_endpoints = ",".join(f"{n}:2379" for n in sorted(etcds))
for name, svc in etcds.items():
    cmd = svc["command"]
    flags = dict(a[2:].split("=", 1) for a in cmd[1:] if a.startswith("--"))
    if flags.get("name") != name: errors.append(f"{name}: --name is not {name}")
    if flags.get("data-dir") != "/data" or f"{name}-data:/data" not in svc.get("volumes", []):
        errors.append(f"{name}: no data dir on a volume of its own")
    members = set(m.split("=")[0] for m in flags.get("initial-cluster", "").split(","))
    if members != set(etcds): errors.append(f"{name}: --initial-cluster names {sorted(members)}")
    test = " ".join((svc.get("healthcheck") or {}).get("test", []))
    if "http://127.0.0.1:2379/health" not in test: errors.append(f"{name}: no health check on /health")
    if svc.get("image") != "quorumkv:local" or svc.get("pull_policy") != "never":
        errors.append(f"{name}: must reuse the master's image (pull_policy: never)")
master_list = ",".join(
    dict(a[2:].split("=", 1) for a in masters[n]["command"][1:]).get("advertise", "?")
    for n in sorted(masters))
racks, listens, volumes, https = {}, set(), set(), set()
runtime = dockerfile.split("FROM ")[-1]
if not re.search(r"\bcurl\b", runtime): errors.append("Dockerfile: runtime image lacks curl, which the health checks run")
if not re.search(r"\bopenssl\b", runtime): errors.append("Dockerfile: runtime image lacks openssl, which make-certs.sh runs")
if "make-certs.sh" not in runtime: errors.append("Dockerfile: runtime image lacks make-certs.sh")
if certs is None:
    errors.append("no certs service")
else:
    cmd = certs.get("command") or []
    want = {"client"} | set(masters) | set(nodes)
    if not cmd or cmd[0] != "make-certs.sh" or cmd[1:2] != ["/certs"]:
        errors.append("certs: does not run make-certs.sh /certs")
    elif set(cmd[2:]) != want:
        errors.append(f"certs: makes {sorted(cmd[2:])}, want {sorted(want)}")
    if "certs:/certs" not in certs.get("volumes", []): errors.append("certs: does not write the certs volume")
    if certs.get("image") != "quorumkv:local" or certs.get("pull_policy") != "never":
        errors.append("certs: must reuse the master's image (pull_policy: never)")
    if str(certs.get("restart", "no")) != "no": errors.append("certs: is a one-shot service (restart: \"no\")")
for name, svc in services.items():
    cmd = svc.get("command") or []
    if not cmd or cmd[0] not in known:
        errors.append(f"{name}: command does not run kv_master or kv_storage_node"); continue
    flags = dict(a[2:].split("=", 1) for a in cmd[1:])
    for f in flags:
        if f not in known[cmd[0]]: errors.append(f"{name}: unknown flag --{f}")
    if "data_dir" not in flags: errors.append(f"{name}: no --data_dir")
    for v in svc.get("volumes", []):
        if v == "certs:/certs:ro": continue
        if v in volumes: errors.append(f"{name}: volume {v} shared")
        volumes.add(v)
    if "certs:/certs:ro" not in svc.get("volumes", []):
        errors.append(f"{name}: does not mount the certs volume read-only")
    if flags.get("tls_dir") != f"/certs/{name}": errors.append(f"{name}: --tls_dir is not /certs/{name}")
    dep = (svc.get("depends_on") or {}).get("certs") or {}
    if dep.get("condition") != "service_completed_successfully":
        errors.append(f"{name}: does not wait for the certs service")
    http = flags.get("http_listen", "")
    port = http.rsplit(":", 1)[-1]
    if not http: errors.append(f"{name}: no --http_listen")
    test = " ".join((svc.get("healthcheck") or {}).get("test", []))
    if f"https://127.0.0.1:{port}/healthz" not in test or f"--cacert /certs/{name}/ca.pem" not in test:
        errors.append(f"{name}: no health check on its /healthz over HTTPS (port {port})")
    if http and http in https: errors.append(f"{name}: HTTP port reused")
    https.add(http)
    if svc.get("image") != "quorumkv:local": errors.append(f"{name}: image is not quorumkv:local")
    if cmd[0] == "kv_master":
        if flags.get("etcd") != etcd_endpoints:
            errors.append(f"{name}: --etcd is not {etcd_endpoints}")
        if not flags.get("advertise", "").startswith(name + ":"):
            errors.append(f"{name}: --advertise is not {name}:PORT")
        if not any(p.endswith(f":{port}") for p in svc.get("ports", [])):
            errors.append(f"{name}: status page port not published")
    if name == "master":
        if (svc.get("build") or {}).get("dockerfile") != "deploy/Dockerfile":
            errors.append("master: does not build deploy/Dockerfile")
    elif "build" in svc or svc.get("pull_policy") != "never":
        errors.append(f"{name}: must reuse the master's image (no build, pull_policy: never)")
    if cmd[0] == "kv_storage_node":
        dep = (svc.get("depends_on") or {}).get("master") or {}
        if dep.get("condition") != "service_healthy":
            errors.append(f"{name}: does not wait for a healthy master")
        racks[flags.get("rack")] = racks.get(flags.get("rack"), 0) + 1
        if flags.get("master") != master_list: errors.append(f"{name}: --master is not {master_list}")
        if not flags.get("advertise", "").startswith(name + ":"): errors.append(f"{name}: --advertise is not {name}:PORT")
        if flags.get("listen") in listens: errors.append(f"{name}: port reused")
        listens.add(flags.get("listen"))
        # The Redis and memcached doors, published on the host's 7201-7206
        # and 7211-7216 (docs/operations.md).
        for door in ("redis_listen", "memcached_listen"):
            port = flags.get(door, "").rsplit(":", 1)[-1]
            if not port:
                errors.append(f"{name}: no --{door}")
            elif f"127.0.0.1:{port}:{port}" not in svc.get("ports", []):
                errors.append(f"{name}: --{door} port {port} not published")
            elif port in listens:
                errors.append(f"{name}: door port {port} reused")
            listens.add(port)
if racks != {"r1": 2, "r2": 2, "r3": 2}: errors.append(f"racks {racks}, want two nodes on each of r1 r2 r3")
if errors:
    print("\n".join(errors)); sys.exit(1)
print("docker-compose.yml: 3 masters on a 3-member etcd + 6 nodes on r1/r2/r3 with TLS from the certs service and their Redis and memcached doors published, flags and volumes check out")
PY
