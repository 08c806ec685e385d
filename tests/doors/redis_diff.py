#!/usr/bin/python3
"""Differential test of the RESP door against a real redis-server.

    redis_diff.py DOOR_PORT REDIS_PORT

Sends the same command sequences to 127.0.0.1:DOOR_PORT (a QuorumKV node's
Redis door) and to 127.0.0.1:REDIS_PORT (a redis-server the caller started)
and compares the replies: values, integers, nils, errors (their text),
TTL answers (as "counting down" when both count down), one command at a
time, pipelined (a whole sequence in one write), inline and in RESP3.
Prints PASS/FAIL per sequence and a summary; exits 1 on any mismatch.
"""
import sys
import time
import uuid

from wire import Wire

RUN = uuid.uuid4().hex[:8]


def key(name):
    return f"diff:{RUN}:{name}"


class Conn(Wire):
    def read(self):
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind in (b"+", b"-"):
            return (kind.decode(), rest.decode(errors="replace"))
        if kind == b":":
            return (":", int(rest))
        if kind == b"_":
            return ("nil",)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return ("nil",)
            return ("$", self.block(n))
        if kind in (b"*", b"%", b"~"):
            n = int(rest)
            if n < 0:
                return ("nil",)
            count = 2 * n if kind == b"%" else n
            return (kind.decode(), [self.read() for _ in range(count)])
        raise ValueError(f"unknown reply {line!r}")


def encode(args):
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(f"${len(a)}\r\n".encode() + a + b"\r\n")
    return b"".join(out)


def normalize(command, reply):
    """What may differ between two correct servers: how much of a TTL is
    left, and the cursor of SCAN."""
    name = command[0].upper() if isinstance(command[0], str) else ""
    if name in ("TTL", "PTTL") and reply[0] == ":" and reply[1] >= 0:
        return (":", "counting down")
    return reply


def run(port, sequence, pipelined=False, prelude=()):
    conn = Conn(port)
    replies = []
    for command in prelude:
        conn.send(encode(command))
        conn.read()
    if pipelined:
        conn.send(b"".join(encode(c) for c in sequence))
        replies = [conn.read() for _ in sequence]
    else:
        for command in sequence:
            conn.send(encode(command))
            replies.append(conn.read())
    conn.sock.close()
    return [normalize(c, r) for c, r in zip(sequence, replies)]


def strings():
    a, b, c, n, t = key("a"), key("b"), key("c"), key("n"), key("t")
    return [
        ["GET", a], ["SET", a, "1"], ["GET", a], ["SET", a, "2", "NX"],
        ["SET", b, "2", "XX"], ["SET", a, "3", "XX", "GET"], ["SET", b, "x", "GET"],
        ["GETSET", a, "4"], ["GETDEL", b], ["GETDEL", b], ["APPEND", a, "56"],
        ["APPEND", c, "new"], ["STRLEN", a], ["STRLEN", key("none")],
        ["INCR", n], ["INCRBY", n, "41"], ["DECR", n], ["DECRBY", n, "-10"],
        ["INCR", c], ["INCRBY", n, "x"], ["INCRBY", n, "9223372036854775807"],
        ["SETNX", a, "z"], ["SETNX", key("nx"), "z"], ["GET", key("nx")],
        ["MSET", a, "m1", b, "m2"], ["MGET", a, key("none"), b], ["MSET", a],
        ["DEL", a, b, key("none")], ["EXISTS", a, c, c], ["TYPE", c], ["TYPE", a],
        ["SET", t, "v", "NX", "XX"], ["SET", t, "v", "EX", "0"],
        ["SET", t, "v", "EX", "x"], ["SET", t, "v", "BOGUS"], ["SET", t],
        ["GET"], ["SETEX", t, "-5", "v"], ["PSETEX", t, "0", "v"],
        ["NOSUCHCOMMAND", "a", "b"], ["NOSUCHCOMMAND"],
        ["SET", t, "", ], ["GET", t], ["SET", t, b"\x00\xffbin\r\n"], ["GET", t],
        ["ECHO", "hi"], ["PING"], ["PING", "x"], ["SELECT", "0"],
    ]


def expiry():
    e, f = key("e"), key("f")
    return [
        ["SET", e, "v", "EX", "100"], ["TTL", e], ["PTTL", e], ["PERSIST", e],
        ["TTL", e], ["PERSIST", e], ["TTL", key("none")], ["PTTL", key("none")],
        ["EXPIRE", e, "50"], ["EXPIRE", e, "60", "NX"], ["EXPIRE", e, "60", "XX"],
        ["EXPIRE", e, "10", "GT"], ["EXPIRE", e, "10", "LT"], ["TTL", e],
        ["EXPIRE", key("none"), "5"], ["SET", e, "w", "KEEPTTL"], ["TTL", e],
        ["SET", e, "w"], ["TTL", e], ["EXPIRE", e, "-1"], ["GET", e],
        ["SET", f, "v"], ["PEXPIRE", f, "100000"], ["TTL", f],
        ["EXPIREAT", f, str(int(time.time()) + 1000)], ["TTL", f],
        ["PEXPIREAT", f, "1"], ["EXISTS", f], ["SET", f, "v"],
        ["GETEX", f, "EX", "100"], ["TTL", f], ["GETEX", f, "PERSIST"], ["TTL", f],
        ["GETEX", f, "BAD"], ["EXPIRE", f, "x"], ["SETEX", f, "100", "v"], ["TTL", f],
    ]


def resp3_prelude():
    return [["HELLO", "3"]]


def resp3():
    r = key("r3")
    return [["GET", r], ["SET", r, "v"], ["MGET", r, key("none")], ["GETDEL", r],
            ["GET", r], ["SET", r, "1"], ["INCR", r], ["EXISTS", r]]


def inline(port):
    conn = Conn(port)
    conn.send(b"PING\r\nSET " + key("inline").encode() + b" \"a b\"\r\nGET " +
              key("inline").encode() + b"\r\necho 'it\\'s'\r\n")
    replies = [conn.read() for _ in range(4)]
    conn.sock.close()
    return replies


def main():
    door, redis = int(sys.argv[1]), int(sys.argv[2])
    failures = 0
    checks = [
        ("strings", lambda p: run(p, strings())),
        ("strings pipelined", lambda p: run(p, [[a if a != key("a") else key("pa")
                                                 for a in c] for c in strings()],
                                            pipelined=True)),
        ("expiry", lambda p: run(p, expiry())),
        ("expiry pipelined", lambda p: run(p, [[a.replace(":e", ":pe").replace(":f", ":pf")
                                                if isinstance(a, str) else a for a in c]
                                               for c in expiry()], pipelined=True)),
        ("resp3", lambda p: run(p, resp3(), prelude=resp3_prelude())),
        ("inline", inline),
    ]
    for name, check in checks:
        got, want = check(door), check(redis)
        if got == want:
            print(f"PASS {name} ({len(want)} replies)")
            continue
        failures += 1
        print(f"FAIL {name}")
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                print(f"  #{i}: door {g!r}\n       redis {w!r}")
    print(f"{len(checks) - failures} of {len(checks)} sequences agree")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
