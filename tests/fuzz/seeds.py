#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed inputs of the fuzz harnesses into corpus/NAME/seed-*.

The seeds come from the unit, config and integration tests (the frames,
responses, histograms, configurations and command lines they use), put in
each harness's input layout (see the comment at the top of each
fuzz-NAME.c). Run it after changing a layout; it rewrites only seed-* files,
the rest of corpus/NAME is what fuzzing found (bench/fuzz --merge).
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def cuts(*offsets):
    """The cut list of fuzz.h: a count, then two bytes per cut."""
    return bytes([len(offsets)]) + b"".join(struct.pack("<H", o) for o in offsets)


def frame(opcode, payload=b"", fin=True, mask=None, rsv=0, length=None):
    """One RFC 6455 frame; @length overrides the length field."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv << 4 | opcode
    m = 0x80 if mask is not None else 0
    if n < 126:
        head = bytes([b0, m | n])
    elif n < 65536:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if mask is not None:
        head += mask
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return head + payload


REQUEST = (b"GET / HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\n\r\n")
RESPONSE = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
K = b"\x01\x02\x03\x04"


def frame_guard():
    # flags: bit 0 outbound, bit 1 start after the HTTP head
    client = (REQUEST + frame(1, b"hello", mask=K) + frame(9, b"ping", mask=K) +
              frame(2, b"x" * 126, mask=K) + frame(1, b"ab", fin=False, mask=K) +
              frame(0, b"cd", mask=K) + frame(8, b"\x03\xe8", mask=K))
    server = (RESPONSE + frame(1, b"hello") + frame(10, b"ping") + frame(2, b"y" * 300) +
              frame(8, b"\x03\xe8bye") + frame(1, b"after the close"))
    return {
        "client": b"\x00" + cuts(3, 60, 150) + client,
        "client-unmasked": b"\x00" + cuts() + REQUEST + frame(1, b"a", mask=K) + frame(9, b"x"),
        "client-pings": b"\x02" + cuts(7) + frame(9, b"", mask=K) * 3 + frame(1, b"z", mask=K),
        "client-64bit": b"\x02" + cuts(2, 20) + frame(2, b"", mask=K, length=1 << 63),
        "server": b"\x01" + cuts(1, 2, 170) + server,
        "server-close-1002": b"\x03" + cuts() + frame(8, b"\x03\xea") + frame(1, b"late"),
    }


def ws_client():
    # flags: bit 0 handshake first, bit 1 binary, bit 2 structured; then the size byte
    text = frame(1, b'{"c":1,"s":2,"t":3,"p":"AAAAAAAAAAAA"}')
    raw = {
        "handshake": b"\x01\x00" + cuts(40, 130) + RESPONSE + text + frame(9, b"hi") +
        frame(8, b"\x03\xe8"),
        "handshake-refused": b"\x01\x00" + cuts() + b"HTTP/1.1 403 Forbidden\r\n\r\n",
        "handshake-not-http": b"\x01\x00" + cuts() + b"SSH-2.0-OpenSSH_9.2\r\n",
        "handshake-extension": b"\x01\x00" + cuts(5) + RESPONSE[:-2] +
        b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        "fragments": b"\x00\x10" + cuts(1, 3, 9) + frame(1, b"abc", fin=False) +
        frame(10, b"") + frame(0, b"def", fin=False) + frame(0, b"ghi") + frame(2, b"z" * 300),
        "masked": b"\x00\x00" + cuts() + frame(1, b"masked", mask=K),
        "length-2-63": b"\x00\x00" + cuts(3) + frame(2, b"", length=1 << 63),
        "length-2-63-minus-1": b"\x00\x90" + cuts(3) + frame(2, b"abc", length=(1 << 63) - 1),
        "rsv": b"\x00\x00" + cuts() + frame(1, b"a", rsv=4),
        "control-long": b"\x00\x00" + cuts() + frame(9, b"p" * 126),
        "control-fragmented": b"\x00\x00" + cuts() + frame(9, b"p", fin=False),
        "close-1-byte": b"\x00\x00" + cuts() + frame(8, b"\x03"),
        "close-999": b"\x00\x00" + cuts() + frame(8, b"\x03\xe7"),
        "continuation-alone": b"\x00\x00" + cuts() + frame(0, b"x"),
        "opcode-3": b"\x00\x00" + cuts() + frame(3, b"x"),
        "oversized": b"\x00\x00" + cuts(100) + frame(2, b"q" * 1000),
    }
    # Structured: op bytes (kind = op % 8), each followed by client, seq (2),
    # sched (3) and the kind's own bytes.
    ident = b"\x07\x02\x00\x10\x00\x00"
    ops = (b"\x00" + ident + b"\x38" + ident + b"\x01" + ident + b"\x05\x00\x41" +
           b"\x02" + ident + b"\x03" + b"\x03" + ident + b"\x04" + ident + b"\x10" +
           b"\x05" + ident + b"\x00" + b"\x06" + ident + b"\xe8\x03")
    raw["structured-text"] = b"\x04\x02" + cuts(5, 90, 200) + ops
    raw["structured-binary"] = b"\x06\x40" + cuts(1) + ops
    return raw


def histogram():
    # mode byte: even decodes text, odd records (shift, value, count) triples
    texts = {
        "empty": "hdr1 0 0 0 0 0 0",
        "one": "hdr1 1 1 1 0 1 1 1:1",
        "spread": "hdr1 6 100 5000000 0 5011100 25000000010000 100:2 2100:1 11000:3",
        "overflow": "hdr1 2 3600000000 3600000000 2 7200000000 2.592e+19 23551:2",
        "rounding": "hdr1 3 7 9 0 24.000000000000004 194 7:1 8:1 9:1",
        # from the unit tests: refused
        "negative": "hdr1 -1 1 1 0 1 1 1:-1",
        "wraps": "hdr1 1 1 1 0 1 1 1:2 2:18446744073709551615",
        "nan": "hdr1 1 1 1 0 nan 1 1:1",
        "order": "hdr1 2 1 2 0 3 5 2:1 1:1",
        "trailing-space": "hdr1 1 1 1 0 1 1 1:1 ",
        # test_daemon.py's largest result histogram, counts that wrap
        "daemon-wrap": "hdr1 %d 1 3600000000 0 1 1" % (23552 * 8640000000000000 % 2**64),
    }
    seeds = {"text-" + k: b"\x00" + v.encode() for k, v in texts.items()}

    def rec(shift, value, count):
        return bytes([shift]) + struct.pack("<QH", value, count)
    seeds["records"] = b"\x01" + rec(0, 1, 1) + rec(0, 2047, 3) + rec(0x80, 2048, 1) + \
        rec(0x80 | 40, 1 << 60, 100) + rec(0, 3600000001, 2) + rec(5, 12345678, 65535)
    seeds["records-empty-b"] = b"\x01" + rec(0, 1000, 7) + rec(0, 1001, 0)
    return seeds


def argv(*lines):
    """Command lines (space-separated words) as NUL-separated arguments."""
    return {"%02d" % i: b"\0".join(w.encode() for w in line.split(" "))
            for i, line in enumerate(lines)}


def echo_options():
    # from tests/unit/test-echo-options.c and the servers' shared contract
    return argv("--port 0", "--port=0 --threads=4 --max-message-size=1K", "--host ::1 -v",
                "--port 70000", "--threads many", "--bogus", "--port", "extra", "--help",
                "--version", "--max-message-size 16M --max-connections 10000 "
                "--handshake-timeout 10 --threads 2 --host 127.0.0.1 --port 9001",
                "--max-message-size 2G", "--max-message-size 1KiB", "-vv --port=")


def load_options():
    # from tests/unit/test-load-options.c and wsbenchd's command line (run.c)
    u = "--url ws://127.0.0.1:1/"
    return argv(
        "--url ws://127.0.0.1:9001/ --clients 100 --ramp-up 1 --rate 10 --duration 30 "
        "--pattern fixed --size 64 --type text",
        "--url ws://localhost:80/echo?x=1", "--url ws://[::1]:9001", "--url wss://127.0.0.1/",
        "--url ws://example.com/", u + " --clients 0", u + " --duration soon",
        u + " --pattern ramp --rate 0 --rate-end 1000000 --duration 600 --size 50",
        u + " --pattern burst --burst 100 --interval 250ms --type binary --size 28",
        u + " --duration 10 --warmup 2 --tick 250us --drain-timeout 2m",
        u + " --source-addresses 127.0.0.1,127.0.0.2,::1", u + " --source-addresses auto",
        u + " --find-max-rate --p99-max 10ms --search-duration 3 --max-rate 5000000",
        u + " --format jsonl --no-progress --lag-threshold 1ms --connect-timeout 5 "
        "--retries 2 --threads 2", "--help", "--version", "--json")


def report():
    # the report fixtures of the report/ tests (reports the daemon tests wrote)
    d = os.path.join(ROOT, "tests", "report")
    one = open(os.path.join(d, "burst-100_go-gorilla_1s.json"), "rb").read()
    two = open(os.path.join(d, "burst-100_node-ws_1s.json"), "rb").read()
    return {
        "one": one,
        "compare": one + b"\0" + two,
        "hostile": b'{"metadata":{"server":"<script>alert(1)</script>","id":"\\" onload=\\"x",'
                   b'"start":"2026-13-45T99:99:99Z"},"histogram":{"corrected":"hdr1 1 1 1 0 1 1 1:1",'
                   b'"uncorrected":"hdr1 x"},"timeline":[{"t":1e308},null,[]],"latency":[]}',
        "not-object": b"[1,2,3]",
        "empty-object": b"{}",
    }


def config():
    # the golden configuration cases and the shipped configuration
    seeds = {}
    for f in sorted(os.listdir(os.path.join(ROOT, "tests", "config"))):
        if f.endswith(".conf"):
            seeds[f[:-5]] = open(os.path.join(ROOT, "tests", "config", f), "rb").read()
    seeds["shipped"] = open(os.path.join(ROOT, "etc", "wsbench.conf"), "rb").read()
    seeds["escapes"] = (b'servers = ( { name = "a"; url = "ws://127.0.0.1:1/"; } );\n'
                        b'scenarios = ( { name = "s"; description = "tab\\there \\"q\\" \\\\"; } );\n')
    return seeds


def overrides():
    # base scenario byte, RLIMIT_NOFILE (2 bytes), then --set lines as in test_daemon.py
    def sets(base, *lines, limit=b"\x10\x27"):
        return bytes([base]) + limit + b"\n".join(lines)

    def raw(t, key, value):
        return bytes([" sdutix".index(t)]) + key + b"\0" + value
    return {
        "duration-size": sets(1, b"duration=10", b"message_size=1024"),
        "ramp": sets(0, b"pattern=ramp", b"rate_end=50", b"rate=0"),
        "burst": sets(5, b"pattern=burst", b"burst=1000", b"interval=0.001"),
        "binary": sets(3, b"message_type=binary", b"message_size=28"),
        "clients-fd": sets(2, b"clients=100000", limit=b"\x00\x01"),
        "unknown": sets(0, b"colour=blue"),
        "description": sets(0, b"description=x"),
        "huge": sets(0, b"clients=1e300", b"rate=-0", b"duration=nan", b"warmup=inf"),
        "raw-double": sets(0, raw("d", b"clients", struct.pack("<d", 4294967296.5))),
        "raw-int64": sets(0, raw("x", b"message_size", struct.pack("<q", -(1 << 63)))),
        "raw-string": sets(0, raw("s", b"pattern", b"burst")),
        "raw-uint": sets(0, raw("u", b"duration", struct.pack("<I", 86400))),
    }


HARNESSES = {
    "frame-guard": frame_guard,
    "ws-client": ws_client,
    "histogram": histogram,
    "echo-options": echo_options,
    "load-options": load_options,
    "report": report,
    "config": config,
    "overrides": overrides,
}


def main():
    names = sys.argv[1:] or list(HARNESSES)
    for name in names:
        d = os.path.join(HERE, "corpus", name)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if f.startswith("seed-"):
                os.unlink(os.path.join(d, f))
        seeds = HARNESSES[name]()
        for seed, data in seeds.items():
            with open(os.path.join(d, "seed-" + seed), "wb") as f:
                f.write(data)
        print(f"{name}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
