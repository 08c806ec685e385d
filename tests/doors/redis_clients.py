#!/usr/bin/python3
"""The Python clients users have, against the RESP doors.

    redis_clients.py PORT [PORT...]

redis-py's plain client on the first door, and its RedisCluster started from
it (it reads CLUSTER SLOTS and COMMAND, then sends each key to a node of its
slot): each writes keys the other reads back, counters through both, MGET
of keys on every node, and a pipeline. Exits 1 on the first mismatch.
"""
import sys
import uuid

import redis
from redis.cluster import RedisCluster

ports = [int(p) for p in sys.argv[1:]]
run = uuid.uuid4().hex[:8]
plain = redis.Redis(host="127.0.0.1", port=ports[0], socket_timeout=10)
cluster = RedisCluster(host="127.0.0.1", port=ports[0], socket_timeout=10)

nodes = cluster.get_nodes()
assert len(nodes) == len(ports), f"RedisCluster sees {len(nodes)} nodes, want {len(ports)}"
assert {n.port for n in nodes} == set(ports), f"nodes {nodes}"

keys = [f"py:{run}:{i}" for i in range(200)]
for i, k in enumerate(keys):
    if i % 2:
        assert plain.set(k, f"v{i}")
    else:
        assert cluster.set(k, f"v{i}")
for i, k in enumerate(keys):
    want = f"v{i}".encode()
    assert plain.get(k) == want, (k, plain.get(k))
    assert cluster.get(k) == want, (k, cluster.get(k))

# Keys went straight to a node holding them: each node's door saw some.
served = {n.name: 0 for n in nodes}
for k in keys:
    served[cluster.get_node_from_key(k).name] += 1
assert all(v > 0 for v in served.values()), served

counter = f"py:{run}:counter"
for _ in range(20):
    plain.incr(counter)
    cluster.incr(counter)
assert plain.get(counter) == b"40", plain.get(counter)

assert plain.mget(keys[:50]) == [f"v{i}".encode() for i in range(50)]
pipe = plain.pipeline(transaction=False)
for k in keys[:20]:
    pipe.append(k, "+")
pipe.get(keys[0])
out = pipe.execute()
assert out[-1] == b"v0+", out[-1]

assert plain.setex(f"py:{run}:ttl", 100, "x")
assert 0 < plain.ttl(f"py:{run}:ttl") <= 100
assert cluster.delete(keys[1]) == 1
assert plain.exists(keys[1]) == 0
assert plain.set(keys[2], "only-if-absent", nx=True) is None
assert plain.getdel(keys[2]) == b"v2+"
seen = set(plain.scan_iter(match=f"py:{run}:*", count=50))
assert len(seen) == 200 - 2 + 2, len(seen)  # keys less 1 and 2, plus counter and ttl
print(f"redis-py plain and RedisCluster agree on {len(keys)} keys over {len(ports)} nodes")
