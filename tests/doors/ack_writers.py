#!/usr/bin/python3
"""Writers through the doors while the cluster loses a replica.

    ack_writers.py SECONDS REDIS_PORT MEMCACHED_PORT CHECK_PORT

For SECONDS, a redis-py writer (REDIS_PORT) and a pymemcache writer
(MEMCACHED_PORT, noreply off so each set is acknowledged) write new keys;
every acknowledged one is remembered, failed ones counted. Then every
acknowledged key is read back through CHECK_PORT's Redis door. Prints the
counts; exits 1 when an acknowledged write is missing.
"""
import sys
import threading
import time
import uuid

import redis
from pymemcache.client.base import Client as Memcache

seconds = float(sys.argv[1])
redis_port, memcached_port, check_port = (int(p) for p in sys.argv[2:5])
run = uuid.uuid4().hex[:8]
acknowledged = {}
failed = {"redis": 0, "memcached": 0}
lock = threading.Lock()
stop = time.time() + seconds


def redis_writer():
    r = redis.Redis(host="127.0.0.1", port=redis_port, socket_timeout=5)
    i = 0
    while time.time() < stop:
        k, v = f"ack:{run}:r{i}", f"r{i}"
        try:
            if r.set(k, v):
                with lock:
                    acknowledged[k] = v.encode()
        except (redis.RedisError, OSError):
            with lock:
                failed["redis"] += 1
        i += 1


def memcached_writer():
    m = Memcache(("127.0.0.1", memcached_port), timeout=5, connect_timeout=5,
                 default_noreply=False)
    i = 0
    while time.time() < stop:
        k, v = f"ack:{run}:m{i}", f"m{i}"
        try:
            if m.set(k, v):
                with lock:
                    acknowledged[k] = v.encode()
        except Exception:  # pymemcache raises several kinds; all count as failed
            with lock:
                failed["memcached"] += 1
            m.close()
        i += 1


threads = [threading.Thread(target=redis_writer), threading.Thread(target=memcached_writer)]
for t in threads:
    t.start()
for t in threads:
    t.join()

check = redis.Redis(host="127.0.0.1", port=check_port, socket_timeout=10)
lost = [k for k, v in acknowledged.items() if check.get(k) != v]
print(f"acknowledged {len(acknowledged)}, failed redis {failed['redis']} "
      f"memcached {failed['memcached']}, lost {len(lost)}")
if lost:
    print("lost:", lost[:10])
sys.exit(1 if lost or not acknowledged else 0)
