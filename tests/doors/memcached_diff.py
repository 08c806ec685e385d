#!/usr/bin/python3
"""Differential test of the memcached door against a real memcached.

    memcached_diff.py DOOR_PORT MEMCACHED_PORT

Sends the same raw command sequences to 127.0.0.1:DOOR_PORT (a QuorumKV
node's memcached door) and to 127.0.0.1:MEMCACHED_PORT (a memcached 1.6
the caller started) and compares the replies byte for byte, except what
two correct servers may differ in: cas uniques, seconds of TTL left, the
version line and the statistics. Each request is followed by "mn", whose
"MN" marks the end of its replies, so that requests answering nothing
(noreply, q) are compared too (and so no request sends "mn" itself). Then pymemcache's client runs the same
calls against both. Keys carry a prefix of their own per run (the door's
cluster is shared). Prints PASS/FAIL per sequence and a summary; exits 1
on any mismatch, printing both replies.
"""
import re
import socket
import sys
import time
import uuid

from pymemcache import serde
from pymemcache.client.base import Client
from wire import Wire

RUN = uuid.uuid4().hex[:8]
TIMEOUT = 10


def key(name):
    return f"mcdiff:{RUN}:{name}"


def long_key(size):
    name = key("long:")
    return name + "k" * (size - len(name))


class Session(Wire):
    """One connection; `send` writes a request and reads its replies."""

    def __init__(self, port):
        super().__init__(port, timeout=TIMEOUT)
        self.log = []    # (request, normalized replies) in order
        self.cas = None  # the last cas unique seen in a reply

    def _reply(self):
        """One reply: a line, a line and its data block (VA), or a list of
        VALUE items or STAT lines through END."""
        line = self.line()
        reply = [line]
        if line.startswith(b"VALUE ") or line.startswith(b"STAT "):
            while line != b"END":
                if line.startswith(b"VALUE "):
                    fields = line.split(b" ")
                    if len(fields) == 5:
                        self.cas = int(fields[4])
                    reply.append(self.block(int(fields[3])))
                line = self.line()
                reply.append(line)
        elif line.startswith(b"VA "):
            reply.append(self.block(int(line.split(b" ")[1])))
        if line[:2] in (b"VA", b"HD"):
            match = re.search(rb" c(\d+)", line)
            if match and int(match.group(1)) != 0:
                self.cas = int(match.group(1))
        return reply

    def send(self, request):
        data = request.encode() if isinstance(request, str) else request
        self.sock.sendall(data + b"mn\r\n")
        replies = []
        while True:
            reply = self._reply()
            if reply == [b"MN"]:
                break
            replies.append(normalize(reply))
        self.log.append((data, replies))
        return replies


META_CODES = (b"VA", b"HD", b"EN", b"NF", b"NS", b"EX")


def normalize(reply):
    """What may differ between two correct servers, made equal."""
    if reply[0].startswith(b"STAT "):
        return [b"<stats>"]
    out = []
    after_value = False
    for i, part in enumerate(reply):
        if after_value:  # a data block: kept as it is
            out.append(part)
            after_value = False
            continue
        if part.startswith(b"VALUE "):
            fields = part.split(b" ")
            if len(fields) == 5:
                fields[4] = b"<cas>"
            part = b" ".join(fields)
            after_value = True
        elif part.startswith(b"VERSION "):
            part = b"VERSION <version>"
        elif i == 0 and part[:2] in META_CODES and part[2:3] in (b"", b" "):
            part = re.sub(rb"(?<= )c[1-9]\d*", b"c<cas>", part)
            part = re.sub(rb"(?<= )t\d+", b"t<ttl>", part)
        out.append(part)
    return out


# ---------------------------------------------------------------- sequences
# Each takes a Session and sends requests; the replies are compared.


def storage(s):
    a, b, c, binary, big = key("a"), key("b"), key("c"), key("bin"), key("big")
    s.send(f"set {a} 0 0 5\r\nhello\r\n")
    s.send(f"get {a}\r\n")
    s.send(f"set {b} 42 0 3\r\nbar\r\n")
    s.send(f"gets {b}\r\n")
    s.send(f"set {c} 4294967295 0 0\r\n\r\n")
    s.send(f"get {a} {b} {c} {key('none')}\r\n")
    s.send(f"gets {c} {a}\r\n")
    s.send(f"set {binary} 1 0 7\r\n".encode() + b"a\r\nb\x00c\xff" + b"\r\n")
    s.send(f"get {binary}\r\n")
    value = (b"0123456789abcdef" * 6400)[:100000]
    s.send(f"set {big} 0 0 {len(value)}\r\n".encode() + value + b"\r\n")
    s.send(f"get {big}\r\n")
    s.send(f"get {key('none')}\r\n")


def add_replace(s):
    a, none = key("ar"), key("ar:none")
    s.send(f"add {a} 1 0 1\r\nx\r\n")
    s.send(f"add {a} 2 0 1\r\ny\r\n")
    s.send(f"get {a}\r\n")
    s.send(f"replace {a} 3 0 1\r\nz\r\n")
    s.send(f"replace {none} 3 0 1\r\nz\r\n")
    s.send(f"get {a} {none}\r\n")


def append_prepend(s):
    a, none = key("ap"), key("ap:none")
    s.send(f"set {a} 5 0 3\r\nmid\r\n")
    s.send(f"append {a} 9 100 3\r\nend\r\n")
    s.send(f"prepend {a} 9 100 3\r\npre\r\n")
    s.send(f"get {a}\r\n")
    s.send(f"mg {a} t f\r\n")
    s.send(f"append {none} 0 0 1\r\nx\r\n")
    s.send(f"prepend {none} 0 0 1\r\nx\r\n")
    s.send(f"get {none}\r\n")


def cas(s):
    a, none = key("cas"), key("cas:none")
    s.send(f"set {a} 0 0 1\r\na\r\n")
    s.send(f"gets {a}\r\n")
    unique = s.cas
    s.send(f"cas {a} 7 0 1 {unique}\r\nb\r\n")
    s.send(f"cas {a} 7 0 1 {unique}\r\nc\r\n")
    s.send(f"gets {a}\r\n")
    s.send(f"cas {a} 0 0 1 {s.cas} noreply\r\nd\r\n")
    s.send(f"get {a}\r\n")
    s.send(f"cas {none} 0 0 1 {unique}\r\nz\r\n")
    s.send(f"cas {a} 0 0 1 0\r\nz\r\n")
    s.send(f"cas {a} 0 0 1\r\nz\r\n")


def delete(s):
    a = key("del")
    s.send(f"set {a} 0 0 1\r\na\r\n")
    s.send(f"delete {a}\r\n")
    s.send(f"delete {a}\r\n")
    s.send(f"delete {a} 0\r\n")
    s.send(f"delete {a} 5\r\n")
    s.send(f"set {a} 0 0 1\r\na\r\n")
    s.send(f"delete {a} noreply\r\n")
    s.send(f"get {a}\r\n")
    s.send(f"set {a} 0 0 1\r\na\r\n")
    s.send(f"delete {a} 0 noreply\r\n")
    s.send(f"get {a}\r\n")


def arithmetic(s):
    n, none = key("n"), key("n:none")
    s.send(f"set {n} 0 0 2\r\n10\r\n")
    s.send(f"incr {n} 5\r\n")
    s.send(f"decr {n} 20\r\n")
    s.send(f"get {n}\r\n")  # memcached pads a shorter number with spaces
    s.send(f"set {n} 0 0 2\r\n10\r\n")
    s.send(f"decr {n} 1\r\n")
    s.send(f"get {n}\r\n")
    s.send(f"incr {n} 100\r\n")
    s.send(f"get {n}\r\n")
    s.send(f"set {n} 0 0 20\r\n18446744073709551615\r\n")
    s.send(f"incr {n} 1\r\n")
    s.send(f"get {n}\r\n")
    s.send(f"set {n} 3 0 1\r\n7\r\n")
    s.send(f"incr {n} 18446744073709551615\r\n")
    s.send(f"get {n}\r\n")
    s.send(f"set {n} 0 0 3\r\nabc\r\n")
    s.send(f"incr {n} 1\r\n")
    s.send(f"decr {n} 1\r\n")
    s.send(f"set {n} 0 0 0\r\n\r\n")
    s.send(f"incr {n} 1\r\n")
    s.send(f"incr {none} 1\r\n")
    s.send(f"decr {none} 1\r\n")
    s.send(f"incr {n} x\r\n")
    s.send(f"incr {n} -1\r\n")
    s.send(f"incr {n}\r\n")


def touch_gat(s):
    t, t2, t3, none = key("t"), key("t2"), key("t3"), key("t:none")
    s.send(f"set {t} 0 0 1\r\nx\r\n")
    s.send(f"touch {t} 100\r\n")
    s.send(f"mg {t} t\r\n")
    s.send(f"touch {none} 100\r\n")
    s.send(f"gat 100 {t} {none}\r\n")
    s.send(f"gats 200 {t}\r\n")
    s.send(f"touch {t} 0\r\n")
    s.send(f"mg {t} t\r\n")
    s.send(f"touch {t} -1\r\n")
    s.send(f"get {t}\r\n")
    s.send(f"set {t2} 0 0 1\r\ny\r\n")
    s.send(f"gat -1 {t2}\r\n")
    s.send(f"get {t2}\r\n")
    s.send(f"gat 10\r\n")
    s.send(f"gat soon {t}\r\n")
    s.send(f"touch {t} soon\r\n")
    # A touch keeps the cas unique, as memcached's does.
    s.send(f"set {t3} 0 0 1\r\nz\r\n")
    s.send(f"gets {t3}\r\n")
    unique = s.cas
    s.send(f"touch {t3} 300\r\n")
    s.send(f"gats 300 {t3}\r\n")
    s.send(f"cas {t3} 0 0 1 {unique}\r\nw\r\n")
    s.send(f"get {t3}\r\n")


def noreply(s):
    k, n = key("nr"), key("nr:n")
    s.send(f"set {k} 0 0 1 noreply\r\na\r\n")
    s.send(f"get {k}\r\n")
    s.send(f"add {k} 0 0 1 noreply\r\nb\r\n")
    s.send(f"replace {k} 4 0 1 noreply\r\nc\r\n")
    s.send(f"append {k} 0 0 1 noreply\r\nd\r\n")
    s.send(f"prepend {k} 0 0 1 noreply\r\ne\r\n")
    s.send(f"get {k}\r\n")
    s.send(f"set {n} 0 0 1 noreply\r\n5\r\n")
    s.send(f"incr {n} 3 noreply\r\n")
    s.send(f"decr {n} 1 noreply\r\n")
    s.send(f"get {n}\r\n")
    s.send(f"touch {k} 100 noreply\r\n")
    s.send(f"incr {k} x noreply\r\n")
    s.send(f"set {k} 0 0 x noreply\r\n")
    s.send(f"verbosity 1 noreply\r\n")
    s.send(f"delete {k} noreply\r\n")
    s.send(f"get {k} {n}\r\n")


def expiry(s):
    e = [key(f"e{i}") for i in range(7)]
    s.send(f"set {e[0]} 0 -1 1\r\nx\r\n")
    s.send(f"get {e[0]}\r\n")
    s.send(f"set {e[1]} 0 1000000000 1\r\nx\r\n")  # 2001: long gone
    s.send(f"get {e[1]}\r\n")
    s.send(f"set {e[2]} 0 2592000 1\r\nx\r\n")     # 30 days from now
    s.send(f"get {e[2]}\r\n")
    s.send(f"mg {e[2]} t v\r\n")
    s.send(f"set {e[3]} 0 {int(time.time()) + 1000} 1\r\nx\r\n")
    s.send(f"get {e[3]}\r\n")
    s.send(f"mg {e[3]} t\r\n")
    s.send(f"set {e[4]} 0 0 1\r\nx\r\n")
    s.send(f"get {e[4]}\r\n")
    s.send(f"set {e[4]} 0 -1 1\r\ny\r\n")         # replaced by an expired item
    s.send(f"get {e[4]}\r\n")
    s.send(f"add {e[5]} 0 -1 1\r\nx\r\n")
    s.send(f"get {e[5]}\r\n")
    s.send(f"ms {e[6]} 1 T-1\r\nx\r\n")
    s.send(f"mg {e[6]} v\r\n")
    s.send(f"ms {e[6]} 1 T100\r\nx\r\n")
    s.send(f"mg {e[6]} t\r\n")


def pipelined(s):
    p1, p2 = key("p1"), key("p2")
    s.send(f"set {p1} 0 0 1\r\na\r\nset {p2} 0 0 1 noreply\r\nb\r\n"
           f"get {p1} {p2}\r\nincr {p1} 1\r\ndelete {p2}\r\nget {p2}\r\n"
           f"append {p1} 0 0 1\r\nz\r\nget {p1}\r\nbogus\r\nget {p1}\r\n"
           f"mg {p1} v\r\nms {p2} 2\r\nhi\r\nmg {p2} v s\r\n")
    s.send(f"get {p1}\nget {p2}\nset {p1} 0 0 1\nq\r\nget {p1}\n")


def meta(s):
    m, c, none = key("m"), key("m:c"), key("m:none")
    s.send(f"ms {m} 5 T100 F7\r\nhello\r\n")
    s.send(f"mg {m} v f t s k Oabc\r\n")
    s.send(f"mg {m}\r\n")
    s.send(f"mg {m} s v\r\n")
    s.send(f"mg {none} v\r\n")
    s.send(f"mg {none} v Oxy k\r\n")
    s.send(f"mg {none} v q\r\n")
    s.send(f"mg {m} v q\r\n")
    s.send(f"ms {m} 3 MA\r\nxyz\r\n")
    s.send(f"mg {m} v f\r\n")
    s.send(f"ms {m} 1 MP\r\n<\r\n")
    s.send(f"ms {m} 1 ME\r\nz\r\n")
    s.send(f"ms {none} 1 MR\r\nz\r\n")
    s.send(f"ms {none} 1 MA\r\nz\r\n")
    s.send(f"mg {m} c\r\n")
    unique = s.cas
    s.send(f"ms {m} 1 C{unique + 1}\r\nz\r\n")
    s.send(f"ms {m} 1 C{unique} F3 k O1 c\r\nz\r\n")
    s.send(f"ms {m} 1 C{unique}\r\ny\r\n")
    s.send(f"ms {none} 1 C{unique}\r\ny\r\n")
    s.send(f"mg {m} v f\r\n")
    s.send(f"ms {m} 1 q\r\nq\r\n")
    s.send(f"ms {m} 1 MX\r\nq\r\n")
    s.send(f"ms {m} 1 zz\r\nq\r\n")
    s.send(f"mg {m} c\r\n")
    s.send(f"md {m} C{s.cas + 1}\r\n")
    s.send(f"md {m} q\r\n")
    s.send(f"md {m}\r\n")
    s.send(f"md {m} q Oz k\r\n")
    s.send(f"ma {c}\r\n")
    s.send(f"ma {c} q\r\n")
    s.send(f"ma {c} N0 J10 v\r\n")
    s.send(f"ma {c} v\r\n")
    s.send(f"ma {c} MD D5 v\r\n")
    s.send(f"ma {c} M- D50 v k Oo\r\n")
    s.send(f"ma {c} q D2\r\n")
    s.send(f"ma {c} v t\r\n")
    s.send(f"mg {c} v\r\n")
    s.send(f"ms {c} 2\r\nab\r\n")
    s.send(f"ma {c}\r\n")
    s.send(f"ma {c} MX\r\n")
    s.send(f"mg {m} zz\r\n")
    s.send(f"mg {m} v v\r\n")
    s.send(f"mg {m} Tx\r\n")
    s.send(f"md {m} zz\r\n")
    s.send(f"mg\r\n")


def errors(s):
    k = key("err")
    s.send(f"set {k} 0 0 1\r\na\r\n")
    s.send(f"bogus command\r\nget {k}\r\n")
    s.send(f"GET {k}\r\n")
    s.send(f"\r\n")
    s.send(f"set {k} 0 0\r\n")
    s.send(f"get\r\n")
    s.send(f"get {long_key(250)}\r\n")
    s.send(f"get {long_key(251)}\r\n")
    s.send(f"get {k} {long_key(251)}\r\n")
    s.send(f"set {long_key(251)} 0 0 1\r\na\r\n")
    s.send(f"set {long_key(250)} 0 0 1\r\na\r\n")
    s.send(f"get {long_key(250)}\r\n")
    s.send(f"delete {long_key(251)}\r\n")
    s.send(f"set {k} 0 0 1\r\nab\r\n")
    s.send(f"set {k} -1 0 1\r\na\r\n")
    s.send(f"set {k} 0 0 -1\r\n")
    s.send(f"verbosity\r\n")
    s.send(f"verbosity 1\r\n")
    s.send(f"version\r\n")
    s.send(f"stats\r\n")
    s.send(f"stats bogus\r\n")
    s.send(f"get {k}\r\n")


def quit_closes(port):
    """`quit` answers what came before it and closes; later requests are
    not read."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    k = key("quit")
    sock.sendall(f"set {k} 0 0 1\r\na\r\nget {k}\r\nquit\r\nget {k}\r\n".encode())
    received = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    sock.close()
    return [(b"quit", [received])]


def pymemcache_calls(port):
    """pymemcache with its defaults (noreply on for set, add, replace,
    delete...), and with pickle's serde, which keeps flags."""
    plain = Client(("127.0.0.1", port), timeout=TIMEOUT, connect_timeout=TIMEOUT)
    pickled = Client(("127.0.0.1", port), timeout=TIMEOUT, connect_timeout=TIMEOUT,
                     serde=serde.pickle_serde)
    k = lambda name: key("py:" + name)
    out = []

    def call(name, f, *args, **kwargs):
        try:
            result = f(*args, **kwargs)
        except Exception as e:  # both servers must fail alike
            result = f"raised {type(e).__name__}: {e}"
        out.append((name.encode(), [normalize_py(result)]))

    call("set", plain.set, k("a"), "hello")
    call("get", plain.get, k("a"))
    call("add existing", plain.add, k("a"), "x", noreply=False)
    call("add", plain.add, k("b"), "bee", noreply=False)
    call("replace", plain.replace, k("b"), "bee2", noreply=False)
    call("replace missing", plain.replace, k("none"), "x", noreply=False)
    call("get b", plain.get, k("b"))
    call("delete", plain.delete, k("b"), noreply=False)
    call("delete missing", plain.delete, k("b"), noreply=False)
    call("delete default", plain.delete, k("a"))
    call("get deleted", plain.get, k("a"))
    call("set n", plain.set, k("n"), "41")
    call("incr", plain.incr, k("n"), 1)
    call("decr", plain.decr, k("n"), 50)
    call("incr missing", plain.incr, k("none"), 1)
    call("gets", plain.gets, k("n"))
    unique = plain.gets(k("n"))[1]
    call("cas", plain.cas, k("n"), "7", unique, noreply=False)
    call("cas stale", plain.cas, k("n"), "8", unique, noreply=False)
    call("cas missing", plain.cas, k("none"), "8", unique, noreply=False)
    call("get n", plain.get, k("n"))
    many = {k(f"m{i}"): f"v{i}" for i in range(20)}
    call("set_many", plain.set_many, many)
    call("get_many", lambda: sorted(plain.get_many(list(many) + [k("none")]).items()))
    call("touch", plain.touch, k("m1"), 100, noreply=False)
    call("touch missing", plain.touch, k("none"), 100, noreply=False)
    if hasattr(plain, "gat"):
        call("gat", plain.gat, k("m2"), 100)
    call("pickle set dict", pickled.set, k("dict"), {"a": [1, 2]})
    call("pickle get dict", pickled.get, k("dict"))
    call("pickle set int", pickled.set, k("int"), 12)
    call("pickle incr int", pickled.incr, k("int"), 30)
    call("pickle get int", pickled.get, k("int"))
    call("pickle set str", pickled.set, k("str"), "text")
    call("pickle gets str", pickled.gets, k("str"))
    call("raw flags", lambda: plain.get(k("str")))
    call("version", lambda: "a version" if plain.version() else None)
    plain.close()
    pickled.close()
    return out


def normalize_py(result):
    # gets: (value, cas unique)
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], bytes) \
            and result[1].isdigit():
        return (result[0], b"<cas>")
    return result


SEQUENCES = [
    ("storage", storage),
    ("add/replace", add_replace),
    ("append/prepend", append_prepend),
    ("cas", cas),
    ("delete", delete),
    ("incr/decr", arithmetic),
    ("touch/gat", touch_gat),
    ("noreply", noreply),
    ("expiry", expiry),
    ("pipelined", pipelined),
    ("meta", meta),
    ("errors", errors),
]


def run(port, sequence):
    s = Session(port)
    try:
        sequence(s)
    except Exception as e:  # a hang or a closed connection is a mismatch
        s.log.append((b"(sequence stopped)", [f"{type(e).__name__}: {e}"]))
    finally:
        s.close()
    return s.log


def run_check(port, check):
    try:
        return check(port)
    except Exception as e:
        return [(b"(check stopped)", [f"{type(e).__name__}: {e}"])]


def compare(name, got, want):
    # Replies only: a request may carry a cas unique each server gave.
    if [g[1] for g in got] == [w[1] for w in want]:
        print(f"PASS {name} ({len(want)} requests)")
        return True
    print(f"FAIL {name}")
    for i in range(max(len(got), len(want))):
        g = got[i] if i < len(got) else (b"(none)", [])
        w = want[i] if i < len(want) else (b"(none)", [])
        if g[1] != w[1]:
            print(f"  #{i} request {w[0][:200]!r}")
            print(f"       door      {g[1]!r}"[:2000])
            print(f"       memcached {w[1]!r}"[:2000])
    return False


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    door, memcached = int(sys.argv[1]), int(sys.argv[2])
    checks = [(name, lambda port, seq=seq: run(port, seq)) for name, seq in SEQUENCES]
    checks += [("quit", quit_closes), ("pymemcache", pymemcache_calls)]
    passed = 0
    for name, check in checks:
        got = run_check(door, check)
        want = run_check(memcached, check)
        passed += compare(name, got, want)
    print(f"{passed} of {len(checks)} sequences agree, {len(checks) - passed} differ")
    sys.exit(0 if passed == len(checks) else 1)


if __name__ == "__main__":
    main()
