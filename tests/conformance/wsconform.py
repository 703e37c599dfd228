#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""wsconform: wsbench's RFC 6455 conformance suite for echo servers.

The Autobahn|Testsuite cannot run on our machines (Python 2 only), so this
re-implements its core catalogue from RFC 6455 on raw sockets, keeping its
case numbers and verdicts:

  OK             the server did what the RFC requires (and what it should)
  NON-STRICT     conformant, but not the preferred behaviour (e.g. failing a
                 connection without first echoing the valid message before
                 the bad frame, or failing invalid UTF-8 late instead of fast)
  INFORMATIONAL  behaviour the RFC leaves open; recorded, never a failure
  FAILED         a MUST of RFC 6455 was broken, or the echo was wrong

Categories: 1 framing, 2 ping/pong, 3 reserved bits, 4 opcodes,
5 fragmentation, 6 UTF-8 (payloads from Markus Kuhn's UTF-8 decoder
stress test, as Autobahn uses), 7 close handling, 9 limits and performance,
10 auto-fragmentation: 301 cases. Category X holds our own cases: unmasked
client frames (which Autobahn never sends), length and size limits, bad
handshakes, each followed by a check that the server still serves.

Usage: wsconform.py --url ws://127.0.0.1:9001/ [--cases GLOB,...]
                    [--json FILE] [--agent NAME] [--strict]
Exit status: 0, or 1 with --strict when a case FAILED; 2 on bad usage.
"""

import argparse
import fnmatch
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import wsproto as ws  # noqa: E402
from wsproto import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT  # noqa: E402

OK, NON_STRICT, INFORMATIONAL, FAILED = "OK", "NON-STRICT", "INFORMATIONAL", "FAILED"
VERDICT_ORDER = (OK, NON_STRICT, INFORMATIONAL, FAILED)

# Close codes acceptable when a connection is failed (RFC 6455 7.4.1); a
# plain TCP close without a close frame is accepted too (section 7.1.7).
FAIL_CODES = {1002, 1007, 1008, 1009, 1011}
# How long to wait for a server to fail a connection before calling it a miss.
FAIL_WAIT = 2.0


class Spec:
    """What a case expects back.

    events: the events (before any close) for OK; non_strict: an alternative
    for NON-STRICT. fail: the server must fail the connection (close with a
    code in fail_codes, or drop it); otherwise we close with 1000 and expect a
    clean close echoing close_codes.
    """

    def __init__(self, events=(), non_strict=None, fail=False, fail_codes=FAIL_CODES,
                 close_codes=(1000,), informational=False, timeout=5.0, closed_by_me=None,
                 non_strict_why="valid data before the violation was not echoed"):
        self.events = list(events)
        self.non_strict = None if non_strict is None else list(non_strict)
        self.fail = fail
        self.fail_codes = set(fail_codes)
        self.close_codes = set(close_codes)
        self.informational = informational
        self.timeout = timeout
        self.closed_by_me = closed_by_me
        self.non_strict_why = non_strict_why


class Result:
    def __init__(self, case_id, description):
        self.id = case_id
        self.description = description
        self.verdict = None
        self.detail = ""
        self.duration_ms = 0.0
        self.close = None

    def as_json(self):
        return {"behavior": self.verdict, "description": self.description,
                "detail": self.detail, "duration_ms": round(self.duration_ms, 1),
                "remoteCloseCode": self.close}


def msg(op, payload):
    return ("message", op, payload)


def describe(ev):
    if ev[0] == "message":
        p = ev[2]
        shown = p[:24] + (b"..." if len(p) > 24 else b"")
        return f"{'text' if ev[1] == OP_TEXT else 'binary'}[{len(p)}]{shown!r}"
    if ev[0] in ("ping", "pong"):
        return f"{ev[0]}[{len(ev[1])}]"
    return repr(ev)


def collect(conn, want, timeout):
    """Reads events until `want` non-close events arrived, a close or the end
    of the connection, or the timeout. Returns (events, terminal event)."""
    events = []
    deadline = time.monotonic() + timeout
    while len(events) < want:
        ev = conn.next_event(max(0.0, deadline - time.monotonic()))
        if ev is None:
            return events, None
        if ev[0] in ("close", "eof", "reset"):
            return events, ev
        events.append(ev)
    return events, None


def judge_events(spec, events):
    if events == spec.events:
        return OK, ""
    if spec.non_strict is not None and events == spec.non_strict:
        return NON_STRICT, spec.non_strict_why
    want = ", ".join(describe(e) for e in spec.events) or "nothing"
    got = ", ".join(describe(e) for e in events) or "nothing"
    return FAILED, f"expected {want}; got {got}"


# Section 7.1.1: once the closing handshake is complete the server should
# close the TCP connection first, at once. "At once" gets this long on a
# loaded machine; a server that waits for the client to end TCP (lws 4.1.6
# alone waits up to 5 s) is still caught.
CLOSE_TCP_WAIT = 3.0


def after_close(conn):
    """Once the server has sent its Close frame (and we ours): it must send
    nothing more (section 5.5.1) and end the TCP connection itself at once.
    Returns what went wrong, or None."""
    events, ended = conn.wait_eof(CLOSE_TCP_WAIT)
    late = [e for e in events if e[0] not in ("eof", "reset")]
    if late:
        more = f" and {len(late) - 2} more" if len(late) > 2 else ""
        return "sent " + ", ".join(describe(e) for e in late[:2]) + more + " after its Close frame"
    if not ended:
        return f"TCP connection still open {CLOSE_TCP_WAIT:g} s after the closing handshake"
    return None


def finish_fail(conn, terminal, res, spec):
    """The server must fail the connection: close frame with an allowed code or
    a TCP close, within FAIL_WAIT."""
    extra = []
    if terminal is None:
        events, _ = collect(conn, 1 << 30, FAIL_WAIT)
        extra = events
        terminal = conn.close_received and ("close",) + conn.close_received
        if terminal is None and conn.closed_tcp:
            terminal = (conn.closed_tcp,)
    if terminal is None:
        return FAILED, "server did not fail the connection", extra
    if terminal[0] == "close":
        res.close = terminal[1]
        conn.send_close(terminal[1] or 1000)
        problem = after_close(conn)
        if problem:
            return FAILED, problem, extra
        if terminal[1] not in spec.fail_codes:
            # Section 7.4.1 names the codes but does not make them a MUST;
            # Autobahn reports this as "WRONG CODE" beside a passing case.
            want = "/".join(str(c) for c in sorted(spec.fail_codes))
            return NON_STRICT, f"failed the connection with close code {terminal[1]}, not {want}", extra
    return OK, "", extra


def finish_clean(conn, terminal, res, spec):
    """We close with 1000 (unless the case already sent a close); the server
    must answer with a close frame whose code is in close_codes, then end TCP."""
    if terminal is not None and terminal[0] != "close":
        return FAILED, f"server dropped the connection ({terminal[0]})", []
    if terminal is not None and spec.closed_by_me is None:
        res.close = terminal[1]
        return FAILED, f"server closed the connection with {terminal[1]}", []
    if spec.closed_by_me is None:
        conn.send_close(1000)
    extra = []
    if terminal is None:
        events, terminal = collect(conn, 1 << 30, spec.timeout)
        extra = events
    if terminal is None or terminal[0] != "close":
        return FAILED, "no close frame in reply to ours", extra
    res.close = terminal[1]
    if terminal[1] not in spec.close_codes:
        return FAILED, f"close reply has code {terminal[1]}, expected {sorted(spec.close_codes, key=str)}", extra
    problem = after_close(conn)
    if problem:
        return FAILED, problem, extra
    return OK, "", extra


class Case:
    def __init__(self, case_id, description, run, spec=None):
        self.id = case_id
        self.description = description
        self.run_fn = run
        self.spec = spec

    def run(self, url, timeout_scale=1.0):
        res = Result(self.id, self.description)
        t0 = time.monotonic()
        try:
            res.verdict, res.detail = self._run(url, res, timeout_scale)
        except (ws.ProtocolError, OSError, socket.timeout) as e:
            res.verdict, res.detail = FAILED, f"{type(e).__name__}: {e}"
        res.duration_ms = (time.monotonic() - t0) * 1000
        return res

    def _run(self, url, res, scale):
        conn = ws.Conn(url, timeout=10.0 * scale)
        try:
            if self.spec is None:  # a case with its own judging logic
                return self.run_fn(conn, res)
            conn.handshake()
            spec = self.spec
            self.run_fn(conn)
            if spec.fail:
                events, terminal = collect(conn, len(spec.events), spec.timeout * scale)
                verdict, detail, extra = finish_fail(conn, terminal, res, spec)
            else:
                events, terminal = collect(conn, len(spec.events), spec.timeout * scale)
                verdict, detail, extra = finish_clean(conn, terminal, res, spec)
            ev_verdict, ev_detail = judge_events(spec, events + extra)
            if spec.informational:
                return INFORMATIONAL, "; ".join(d for d in (detail, ev_detail) if d)
            if verdict == FAILED:
                return FAILED, detail
            if ev_verdict == FAILED:
                return FAILED, ev_detail
            if verdict == NON_STRICT:
                return NON_STRICT, detail
            return ev_verdict, ev_detail
        finally:
            conn.close()


CATALOGUE = []


def case(case_id, description, spec=None):
    def register(fn):
        CATALOGUE.append(Case(case_id, description, fn, spec))
        return fn
    return register


def add(case_id, description, run, spec=None):
    CATALOGUE.append(Case(case_id, description, run, spec))


def ping_close(c):
    c.send_frame(OP_PING, b"")


# --------------------------------------------------------------------------
# 1 Framing: payload lengths around every length encoding (RFC 6455 5.2).
def _framing():
    sizes = [0, 125, 126, 127, 128, 65535, 65536]
    for cat, op, fill in ((1, OP_TEXT, b"*"), (2, OP_BINARY, b"\xfe")):
        name = "text" if op == OP_TEXT else "binary"
        for i, n in enumerate(sizes, 1):
            payload = fill * n
            add(f"1.{cat}.{i}", f"Send {name} message with payload length {n}.",
                lambda c, op=op, p=payload: c.send_frame(op, p),
                Spec([msg(op, payload)]))
        payload = fill * 65536
        add(f"1.{cat}.8", f"Send {name} message with payload length 65536, in chops of 997 octets.",
            lambda c, op=op, p=payload: c.send_frame(op, p, chop=997),
            Spec([msg(op, payload)]))


_framing()

# --------------------------------------------------------------------------
# 2 Pings and pongs (RFC 6455 5.5.2, 5.5.3).
add("2.1", "Send ping without payload.", lambda c: c.send_frame(OP_PING), Spec([("pong", b"")]))
add("2.2", "Send ping with small text payload.", lambda c: c.send_frame(OP_PING, b"Hello, world!"),
    Spec([("pong", b"Hello, world!")]))
_BIN = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
add("2.3", "Send ping with small binary (non UTF-8) payload.", lambda c: c.send_frame(OP_PING, _BIN),
    Spec([("pong", _BIN)]))
add("2.4", "Send ping with binary payload of 125 octets.",
    lambda c: c.send_frame(OP_PING, b"\xfe" * 125), Spec([("pong", b"\xfe" * 125)]))
add("2.5", "Send ping with binary payload of 126 octets (control frames are at most 125).",
    lambda c: c.send_frame(OP_PING, b"\xfe" * 126), Spec(fail=True, fail_codes={1002}))
add("2.6", "Send ping with 125 octets, in octet-wise chops.",
    lambda c: c.send_frame(OP_PING, b"\xfe" * 125, chop=1, delay=0.001),
    Spec([("pong", b"\xfe" * 125)]))
add("2.7", "Send unsolicited pong without payload; expect nothing.", lambda c: c.send_frame(OP_PONG))
CATALOGUE[-1].spec = Spec([])
add("2.8", "Send unsolicited pong with payload; expect nothing.",
    lambda c: c.send_frame(OP_PONG, b"unsolicited pong payload"), Spec([]))
add("2.9", "Send unsolicited pong, then ping; expect the pong for the ping only.",
    lambda c: (c.send_frame(OP_PONG, b"unsolicited pong payload"),
               c.send_frame(OP_PING, b"ping payload")),
    Spec([("pong", b"ping payload")]))


def _ten_pings(chop):
    payloads = [f"payload-{i}".encode() for i in range(10)]

    def run(c, res):
        c.handshake()
        data = b"".join(ws.encode_frame(OP_PING, p) for p in payloads)
        c.send_raw(data, chop=chop, delay=0.001 if chop else 0)
        events, terminal = collect(c, 10, 2.0)
        verdict, detail, extra = finish_clean(c, terminal, res, Spec())
        pongs = [e[1] for e in events + extra if e[0] == "pong"]
        others = [e for e in events + extra if e[0] != "pong"]
        if verdict == FAILED:
            return verdict, detail
        if others:
            return FAILED, f"unexpected {describe(others[0])}"
        if pongs == payloads:
            return OK, ""
        # Section 5.5.3: a pong MAY answer only the most recent of several
        # pings not yet answered; answering older ones and not the last is
        # not that allowance.
        if pongs and pongs[-1] == payloads[-1] and all(p in payloads for p in pongs):
            return NON_STRICT, f"{len(pongs)} of 10 pings answered, including the last"
        return FAILED, f"pongs for {[p.decode() for p in pongs]}; the last ping was not answered"
    return run


add("2.10", "Send 10 pings with payload.", _ten_pings(None))
add("2.11", "Send 10 pings with payload, in octet-wise chops.", _ten_pings(1))

# --------------------------------------------------------------------------
# 3 Reserved bits (RFC 6455 5.2: MUST be 0 without a negotiated extension).
add("3.1", "Send small text message with RSV = 1.",
    lambda c: c.send_frame(OP_TEXT, b"Hello, world!", rsv=1), Spec(fail=True, fail_codes={1002}))


def _rsv_after_text(rsv, mode):
    def run(c):
        frames = [ws.encode_frame(OP_TEXT, b"Hello, world!"),
                  ws.encode_frame(OP_TEXT, b"Hello, world!", rsv=rsv),
                  ws.encode_frame(OP_PING, b"")]
        if mode == "frame":
            for f in frames:
                c.send_raw(f)
                time.sleep(0.05)
        else:
            c.send_raw(b"".join(frames), chop=1 if mode == "octet" else None,
                       delay=0.001 if mode == "octet" else 0)
    return run


for cid, rsv, mode, how in (("3.2", 2, "bulk", ""), ("3.3", 3, "frame", ", frame-wise"),
                            ("3.4", 4, "octet", ", in octet-wise chops")):
    add(cid, f"Send small text message, then one with RSV = {rsv}, then ping{how}.",
        _rsv_after_text(rsv, mode),
        Spec([msg(OP_TEXT, b"Hello, world!")], non_strict=[], fail=True, fail_codes={1002}))
add("3.5", "Send small binary message with RSV = 5.",
    lambda c: c.send_frame(OP_BINARY, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", rsv=5),
    Spec(fail=True, fail_codes={1002}))
add("3.6", "Send ping with RSV = 6.", lambda c: c.send_frame(OP_PING, b"Hello, world!", rsv=6),
    Spec(fail=True, fail_codes={1002}))
add("3.7", "Send close with RSV = 7.", lambda c: c.send_frame(OP_CLOSE, ws.close_payload(1000), rsv=7),
    Spec(fail=True, fail_codes={1002}))

# --------------------------------------------------------------------------
# 4 Opcodes (RFC 6455 5.2: reserved opcodes MUST fail the connection).


def _reserved_opcode(op, payload, after_text):
    def run(c):
        frames = []
        if after_text:
            frames.append(ws.encode_frame(OP_TEXT, b"Hello, world!"))
        frames.append(ws.encode_frame(op, payload))
        if after_text:
            frames.append(ws.encode_frame(OP_PING, b""))
        c.send_raw(b"".join(frames))
    return run


for group, ops in ((1, (3, 4, 5, 6, 7)), (2, (11, 12, 13, 14, 15))):
    kind = "non-control" if group == 1 else "control"
    for i, op in enumerate(ops, 1):
        payload = b"" if i in (1, 3) else b"reserved opcode payload"
        after_text = i >= 3
        desc = f"Send frame with reserved {kind} opcode {op}" + (" and payload" if payload else "")
        if after_text:
            desc = "Send small text message, then " + desc[0].lower() + desc[1:] + ", then ping"
        spec = (Spec([msg(OP_TEXT, b"Hello, world!")], non_strict=[], fail=True, fail_codes={1002})
                if after_text else Spec(fail=True, fail_codes={1002}))
        add(f"4.{group}.{i}", desc + ".", _reserved_opcode(op, payload, after_text), spec)

# --------------------------------------------------------------------------
# 5 Fragmentation (RFC 6455 5.4).
add("5.1", "Send ping fragmented into 2 fragments.",
    lambda c: c.send_raw(ws.encode_frame(OP_PING, b"fragment1", fin=False)
                         + ws.encode_frame(OP_CONT, b"fragment2")),
    Spec(fail=True, fail_codes={1002}))
add("5.2", "Send pong fragmented into 2 fragments.",
    lambda c: c.send_raw(ws.encode_frame(OP_PONG, b"fragment1", fin=False)
                         + ws.encode_frame(OP_CONT, b"fragment2")),
    Spec(fail=True, fail_codes={1002}))


def _send_frames(frames, mode):
    def run(c):
        encoded = [ws.encode_frame(*f) if isinstance(f, tuple) else f for f in frames]
        if mode == "frame":
            for f in encoded:
                c.send_raw(f)
                time.sleep(0.05)
        else:
            c.send_raw(b"".join(encoded), chop=1 if mode == "octet" else None,
                       delay=0.0005 if mode == "octet" else 0)
    return run


MODES = (("bulk", ""), ("frame", ", frame-wise"), ("octet", ", in octet-wise chops"))
_two = [(OP_TEXT, b"fragment1", False), (OP_CONT, b"fragment2", True)]
for i, (mode, how) in enumerate(MODES, 3):
    add(f"5.{i}", f"Send text message fragmented into 2 fragments{how}.", _send_frames(_two, mode),
        Spec([msg(OP_TEXT, b"fragment1fragment2")]))
_two_ping = [(OP_TEXT, b"fragment1", False), (OP_PING, b"ping payload", True),
             (OP_CONT, b"fragment2", True)]
for i, (mode, how) in enumerate(MODES, 6):
    add(f"5.{i}", f"Send text message in 2 fragments with a ping between them{how}.",
        _send_frames(_two_ping, mode),
        Spec([("pong", b"ping payload"), msg(OP_TEXT, b"fragment1fragment2")]))
for base, fin in ((9, True), (12, False)):
    frames = [(OP_CONT, b"non-continuation payload", fin), (OP_TEXT, b"Hello, world!", True)]
    for j, (mode, how) in enumerate(MODES):
        add(f"5.{base + j}",
            f"Send continuation frame with FIN = {str(fin).lower()} where there is nothing to "
            f"continue, then unfragmented text message{how}.",
            _send_frames(frames, mode), Spec(fail=True, fail_codes={1002}))
add("5.15", "Send text message in 2 fragments, then continuation with FIN = false where there is "
    "nothing to continue, then unfragmented text message.",
    _send_frames([(OP_TEXT, b"fragment1", False), (OP_CONT, b"fragment2", True),
                  (OP_CONT, b"fragment3", False), (OP_TEXT, b"fragment4", True)], "bulk"),
    Spec([msg(OP_TEXT, b"fragment1fragment2")], non_strict=[], fail=True, fail_codes={1002}))
for cid, fin in (("5.16", False), ("5.17", True)):
    frames = [(OP_CONT, b"fragment1", fin), (OP_TEXT, b"fragment2", False),
              (OP_CONT, b"fragment3", True)] * 2
    add(cid, f"Repeated 2x: continuation with FIN = {str(fin).lower()} where there is nothing to "
        "continue, then text message in 2 fragments.", _send_frames(frames, "bulk"),
        Spec(fail=True, fail_codes={1002}))
add("5.18", "Send text message in 2 fragments, both with the text opcode.",
    _send_frames([(OP_TEXT, b"fragment1", False), (OP_TEXT, b"fragment2", True)], "bulk"),
    Spec(fail=True, fail_codes={1002}))


def _five_with_pings(mode):
    """Autobahn 5.19/5.20: two fragments and a ping, a 1 s pause, then two
    more fragments, another ping and the final fragment."""
    frames = [(OP_TEXT, b"fragment1", False), (OP_CONT, b"fragment2", False),
              (OP_PING, b"pongme 1!", True)]
    rest = [(OP_CONT, b"fragment3", False), (OP_CONT, b"fragment4", False),
            (OP_PING, b"pongme 2!", True), (OP_CONT, b"fragment5", True)]

    def run(c):
        _send_frames(frames, mode)(c)
        time.sleep(1.0)
        _send_frames(rest, mode)(c)
    return run


_five_events = [("pong", b"pongme 1!"), ("pong", b"pongme 2!"),
                msg(OP_TEXT, b"fragment1fragment2fragment3fragment4fragment5")]
add("5.19", "Send text message in 5 fragments with 2 pings between them and a 1 s pause.",
    _five_with_pings("bulk"), Spec(_five_events))
add("5.20", "As 5.19, each frame sent separately.",
    _five_with_pings("frame"), Spec(_five_events))

# --------------------------------------------------------------------------
# 6 UTF-8 handling (RFC 6455 8.1: invalid UTF-8 in text MUST fail, 1007).
_frag3 = [(OP_TEXT, b"", False), (OP_CONT, b"", False), (OP_CONT, b"", True)]
add("6.1.1", "Send text message of length 0.", lambda c: c.send_frame(OP_TEXT, b""),
    Spec([msg(OP_TEXT, b"")]))
add("6.1.2", "Send fragmented text message, 3 fragments each of length 0.",
    _send_frames(_frag3, "bulk"), Spec([msg(OP_TEXT, b"")]))
add("6.1.3", "Send fragmented text message, 3 fragments, first and last of length 0.",
    _send_frames([(OP_TEXT, b"", False), (OP_CONT, b"middle frame payload", False),
                  (OP_CONT, b"", True)], "bulk"), Spec([msg(OP_TEXT, b"middle frame payload")]))
_HELLO = "Hello-µ@ßöäüàá-UTF-8!!".encode()
# Kuhn's "κόσμε" (U+03BA U+1F79 U+03C3 U+03BC U+03B5): 2+3+2+2+2 octets.
_KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
add("6.2.1", "Send valid UTF-8 text message in one fragment.",
    lambda c: c.send_frame(OP_TEXT, _HELLO), Spec([msg(OP_TEXT, _HELLO)]))
add("6.2.2", "Send valid UTF-8 text message in two fragments, split at a code point boundary.",
    _send_frames([(OP_TEXT, _HELLO[:6], False), (OP_CONT, _HELLO[6:], True)], "bulk"),
    Spec([msg(OP_TEXT, _HELLO)]))


def _octet_fragments(payload):
    return [(OP_TEXT if i == 0 else OP_CONT, payload[i:i + 1], i == len(payload) - 1)
            for i in range(len(payload))]


add("6.2.3", "Send valid UTF-8 text message in fragments of 1 octet (not at code point ends).",
    _send_frames(_octet_fragments(_HELLO), "bulk"), Spec([msg(OP_TEXT, _HELLO)]))
add("6.2.4", "Send valid UTF-8 text message 'κόσμε' in fragments of 1 octet.",
    _send_frames(_octet_fragments(_KOSME), "bulk"), Spec([msg(OP_TEXT, _KOSME)]))
_BAD = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64"
add("6.3.1", "Send invalid UTF-8 text message unfragmented.",
    lambda c: c.send_frame(OP_TEXT, _BAD), Spec(fail=True, fail_codes={1007}))
add("6.3.2", "Send invalid UTF-8 text message in fragments of 1 octet.",
    _send_frames(_octet_fragments(_BAD), "bulk"), Spec(fail=True, fail_codes={1007}))


def _fail_fast(parts, chop):
    """6.4.x: the message becomes invalid in part 2; a strict server fails
    before part 3 arrives (RFC 6455 8.1: fail "as soon as" it is invalid)."""
    def run(c, res):
        c.handshake()
        ops = [(OP_TEXT, parts[0], False), (OP_CONT, parts[1], False), (OP_CONT, parts[2], True)]
        for i, (op, p, fin) in enumerate(ops):
            c.send_raw(ws.encode_frame(op, p, fin=fin), chop=chop, delay=0.001 if chop else 0)
            events, terminal = collect(c, 1, 1.0)
            if events:
                return FAILED, f"unexpected {describe(events[0])}"
            if terminal is not None:
                verdict, detail, _ = finish_fail(c, terminal, res, Spec(fail=True, fail_codes={1007}))
                if verdict == FAILED:
                    return verdict, detail
                return (OK, "") if i == 1 else (NON_STRICT, f"failed after part {i + 1}")
        return FAILED, "invalid UTF-8 was never failed"
    return run


_P1 = _KOSME
_P2 = b"\xf4\x90\x80\x80"
_P3 = "edited".encode()
add("6.4.1", "Invalid UTF-8 (code point above U+10FFFF) in the 2nd of 3 fragments; fail fast.",
    _fail_fast([_P1, _P2, _P3], None))
add("6.4.2", "Invalid UTF-8 starting at the 1st octet of the 2nd of 3 fragments; fail fast.",
    _fail_fast([_P1 + b"\xf4", b"\x90\x80\x80", _P3], None))
add("6.4.3", "As 6.4.1, each fragment sent in octet-wise chops.",
    _fail_fast([_P1, _P2, _P3], 1))
add("6.4.4", "As 6.4.2, each fragment sent in octet-wise chops.",
    _fail_fast([_P1 + b"\xf4", b"\x90\x80\x80", _P3], 1))


def _cont(lo, hi):
    return bytes(range(lo, hi + 1))


def _lonely(lo, hi):
    return b"".join(bytes([b]) + b" " for b in range(lo, hi + 1))


# (title, [(bytes, valid)]) from Markus Kuhn's UTF-8 decoder capability and
# stress test, in Autobahn's order 6.5 .. 6.23.
UTF8_GROUPS = [
    ("Some valid UTF-8 sequences", [
        (_KOSME, True), ("\u00e9".encode(), True), ("\u20ac".encode(), True),
        ("\U00010348".encode(), True), ("ab\u00f6\u20ac\U0001f600".encode(), True)]),
    ("Prefixes of 'κόσμε' (valid only at code point ends)",
     [(_KOSME[:n], n in (2, 5, 7, 9, 11)) for n in range(1, 12)]),
    ("First possible sequence of a certain length",
     [(b"\x00", True), (b"\xc2\x80", True), (b"\xe0\xa0\x80", True), (b"\xf0\x90\x80\x80", True)]),
    ("First possible sequence of length 5 and 6 (invalid)",
     [(b"\xf8\x88\x80\x80\x80", False), (b"\xfc\x84\x80\x80\x80\x80", False)]),
    ("Last possible sequence of a certain length",
     [(b"\x7f", True), (b"\xdf\xbf", True), (b"\xef\xbf\xbf", True), (b"\xf4\x8f\xbf\xbf", True)]),
    ("Last possible sequence of length 4 to 6 (invalid)",
     [(b"\xf7\xbf\xbf\xbf", False), (b"\xfb\xbf\xbf\xbf\xbf", False),
      (b"\xfd\xbf\xbf\xbf\xbf\xbf", False)]),
    ("Other boundary conditions",
     [(b"\xed\x9f\xbf", True), (b"\xee\x80\x80", True), (b"\xef\xbf\xbd", True),
      (b"\xf4\x8f\xbf\xbf", True), (b"\xf4\x90\x80\x80", False)]),
    ("Unexpected continuation bytes",
     [(b"\x80", False), (b"\xbf", False), (b"\x80\xbf", False), (b"\x80\xbf\x80", False),
      (b"\x80\xbf\x80\xbf", False), (b"\x80\xbf\x80\xbf\x80", False),
      (b"\x80\xbf\x80\xbf\x80\xbf", False), (_cont(0x80, 0xbf), False)]),
    ("Lonely start characters",
     [(_lonely(0xc0, 0xdf), False), (_lonely(0xe0, 0xef), False), (_lonely(0xf0, 0xf7), False),
      (_lonely(0xf8, 0xfb), False), (_lonely(0xfc, 0xfd), False)]),
    ("Sequences with last continuation byte missing",
     [(b"\xc0", False), (b"\xe0\x80", False), (b"\xf0\x80\x80", False),
      (b"\xf8\x80\x80\x80", False), (b"\xfc\x80\x80\x80\x80", False), (b"\xdf", False),
      (b"\xef\xbf", False), (b"\xf7\xbf\xbf", False), (b"\xfb\xbf\xbf\xbf", False),
      (b"\xfd\xbf\xbf\xbf\xbf", False)]),
    ("Concatenation of incomplete sequences",
     [(b"\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80"
       b"\xdf\xef\xbf\xf7\xbf\xbf\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf", False)]),
    ("Impossible bytes", [(b"\xfe", False), (b"\xff", False), (b"\xfe\xfe\xff\xff", False)]),
    ("Overlong ASCII character",
     [(b"\xc0\xaf", False), (b"\xe0\x80\xaf", False), (b"\xf0\x80\x80\xaf", False),
      (b"\xf8\x80\x80\x80\xaf", False), (b"\xfc\x80\x80\x80\x80\xaf", False)]),
    ("Maximum overlong sequences",
     [(b"\xc1\xbf", False), (b"\xe0\x9f\xbf", False), (b"\xf0\x8f\xbf\xbf", False),
      (b"\xf8\x87\xbf\xbf\xbf", False), (b"\xfc\x83\xbf\xbf\xbf\xbf", False)]),
    ("Overlong representation of the NUL character",
     [(b"\xc0\x80", False), (b"\xe0\x80\x80", False), (b"\xf0\x80\x80\x80", False),
      (b"\xf8\x80\x80\x80\x80", False), (b"\xfc\x80\x80\x80\x80\x80", False)]),
    ("Single UTF-16 surrogates",
     [(bytes([0xed, b1, b2]), False) for b1, b2 in
      ((0xa0, 0x80), (0xad, 0xbf), (0xae, 0x80), (0xaf, 0xbf), (0xb0, 0x80), (0xbe, 0x80),
       (0xbf, 0xbf))]),
    ("Paired UTF-16 surrogates",
     [(bytes([0xed, h1, h2, 0xed, l1, l2]), False) for (h1, h2), (l1, l2) in
      (((0xa0, 0x80), (0xb0, 0x80)), ((0xa0, 0x80), (0xbf, 0xbf)), ((0xad, 0xbf), (0xb0, 0x80)),
       ((0xad, 0xbf), (0xbf, 0xbf)), ((0xae, 0x80), (0xb0, 0x80)), ((0xae, 0x80), (0xbf, 0xbf)),
       ((0xaf, 0xbf), (0xb0, 0x80)), ((0xaf, 0xbf), (0xbf, 0xbf)))]),
    ("Noncharacter code points (valid UTF-8)",
     [(chr(cp).encode(), True) for cp in
      [0xFFFE, 0xFFFF] + [p * 0x10000 + off for p in range(1, 17) for off in (0xFFFE, 0xFFFF)]]),
    ("Unicode specials (valid UTF-8)",
     [(chr(cp).encode(), True) for cp in (0xFFF9, 0xFFFA, 0xFFFB, 0xFFFC, 0xFFFD, 0xFFFE, 0xFFFF)]),
]


def _utf8_cases():
    for g, (title, vectors) in enumerate(UTF8_GROUPS, 5):
        for i, (payload, valid) in enumerate(vectors, 1):
            verdict = "valid" if valid else "invalid"
            add(f"6.{g}.{i}", f"{title}: {verdict} payload {payload[:16].hex()} in one frame.",
                lambda c, p=payload: c.send_frame(OP_TEXT, p),
                Spec([msg(OP_TEXT, payload)]) if valid else Spec(fail=True, fail_codes={1007}))


_utf8_cases()

# --------------------------------------------------------------------------
# 7 Close handling (RFC 6455 5.5.1, 7.4).
add("7.1.1", "Send a message followed by a close frame.",
    lambda c: (c.send_frame(OP_TEXT, b"Hello World!"), c.send_close(1000)),
    Spec([msg(OP_TEXT, b"Hello World!")], closed_by_me=True))
add("7.1.2", "Send two close frames.", lambda c: (c.send_close(1000), c.send_close(1000)),
    Spec([], closed_by_me=True))
add("7.1.3", "Send a ping after the close frame; expect no pong.",
    lambda c: (c.send_close(1000), c.send_frame(OP_PING, b"Hello World!")),
    Spec([], closed_by_me=True))
add("7.1.4", "Send a text message after the close frame; expect no echo.",
    lambda c: (c.send_close(1000), c.send_frame(OP_TEXT, b"Hello World!")),
    Spec([], closed_by_me=True))
add("7.1.5", "Send first fragment, close, then second fragment; expect no echo.",
    lambda c: (c.send_frame(OP_TEXT, b"fragment1", fin=False), c.send_close(1000),
               c.send_frame(OP_CONT, b"fragment2")),
    Spec([], closed_by_me=True))
_BIG = b"BAsd7&jh23" * 26214 + b"Bj"
add("7.1.6", "Send 256K message, then close, then ping; behaviour is informational.",
    lambda c: (c.send_frame(OP_TEXT, _BIG), c.send_close(1000), c.send_frame(OP_PING, b"ping")),
    Spec([msg(OP_TEXT, _BIG)], closed_by_me=True, informational=True, timeout=10))
add("7.3.1", "Send close with payload length 0 (no close code).",
    lambda c: c.send_frame(OP_CLOSE, b""), Spec([], closed_by_me=True, close_codes=(None, 1000)))
add("7.3.2", "Send close with payload length 1.",
    lambda c: c.send_frame(OP_CLOSE, b"0"), Spec(fail=True, fail_codes={1002}))
add("7.3.3", "Send close with close code and no reason.",
    lambda c: c.send_close(1000), Spec([], closed_by_me=True))
add("7.3.4", "Send close with close code and a short reason.",
    lambda c: c.send_close(1000, b"Hello World!"), Spec([], closed_by_me=True))
add("7.3.5", "Send close with close code and a reason of 123 octets (maximum).",
    lambda c: c.send_close(1000, b"*" * 123), Spec([], closed_by_me=True))
add("7.3.6", "Send close with close code and a reason of 124 octets (frame of 126).",
    lambda c: c.send_frame(OP_CLOSE, ws.close_payload(1000, b"*" * 124)),
    Spec(fail=True, fail_codes={1002}))
add("7.5.1", "Send close with invalid UTF-8 in the reason.",
    lambda c: c.send_close(1000, _BAD), Spec(fail=True, fail_codes={1002, 1007}))
for i, code in enumerate((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000,
                          4999), 1):
    add(f"7.7.{i}", f"Send close with valid close code {code}.",
        lambda c, code=code: c.send_close(code), Spec([], closed_by_me=True, close_codes=(code,)))
for i, code in enumerate((0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999), 1):
    add(f"7.9.{i}", f"Send close with invalid close code {code}.",
        lambda c, code=code: c.send_close(code), Spec(fail=True, fail_codes={1002}))
for i, code in enumerate((5000, 65535), 1):
    add(f"7.13.{i}", f"Send close with close code {code} (outside the registry).",
        lambda c, code=code: c.send_close(code),
        Spec([], closed_by_me=True, close_codes=(code, 1002), informational=True))

# --------------------------------------------------------------------------
# 9 Limits and performance: large messages, many fragments, chopped writes,
# round trips. OK when echoed correctly within the time limit.
_KiB, _MiB = 1024, 1024 * 1024
for group, op in ((1, OP_TEXT), (2, OP_BINARY)):
    name = "text" if op == OP_TEXT else "binary"
    fill = b"*" if op == OP_TEXT else b"\xfe"
    for i, n in enumerate((64 * _KiB, 256 * _KiB, _MiB, 4 * _MiB, 8 * _MiB, 16 * _MiB), 1):
        payload = fill * n
        add(f"9.{group}.{i}", f"Send {name} message of {n} octets in one frame.",
            lambda c, op=op, p=payload: c.send_frame(op, p),
            Spec([msg(op, payload)], timeout=60))
for group, op in ((3, OP_TEXT), (4, OP_BINARY)):
    name = "text" if op == OP_TEXT else "binary"
    payload = (b"*" if op == OP_TEXT else b"\xfe") * (4 * _MiB)
    for i, frag in enumerate((64, 256, _KiB, 4 * _KiB, 16 * _KiB, 64 * _KiB, 256 * _KiB, _MiB,
                              4 * _MiB), 1):
        add(f"9.{group}.{i}", f"Send {name} message of 4 MiB in fragments of {frag} octets.",
            lambda c, op=op, p=payload, f=frag: c.send_message(op, p, frag=f),
            Spec([msg(op, payload)], timeout=100))
for group, op in ((5, OP_TEXT), (6, OP_BINARY)):
    name = "text" if op == OP_TEXT else "binary"
    payload = (b"*" if op == OP_TEXT else b"\xfe") * _MiB
    for i, chop in enumerate((64, 128, 256, 512, 1024, 2048), 1):
        add(f"9.{group}.{i}", f"Send {name} message of 1 MiB in chops of {chop} octets.",
            lambda c, op=op, p=payload, ch=chop: c.send_frame(op, p, chop=ch),
            Spec([msg(op, payload)], timeout=60))


def _round_trips(op, size, count=1000):
    payload = (b"*" if op == OP_TEXT else b"\xfe") * size

    def run(c, res):
        c.handshake()
        t0 = time.monotonic()
        for n in range(count):
            c.send_frame(op, payload)
            ev = c.next_event(10.0)
            if ev != msg(op, payload):
                return FAILED, f"round trip {n}: expected the echo, got {describe(ev) if ev else 'nothing'}"
        rtt_us = (time.monotonic() - t0) / count * 1e6
        verdict, detail, _ = finish_clean(c, None, res, Spec())
        return verdict, detail or f"mean round trip {rtt_us:.0f} us"
    return run


for group, op in ((7, OP_TEXT), (8, OP_BINARY)):
    name = "text" if op == OP_TEXT else "binary"
    for i, size in enumerate((0, 16, 64, 256, 1024, 4096), 1):
        add(f"9.{group}.{i}", f"Send 1000 {name} messages of {size} octets, one round trip each.",
            _round_trips(op, size))

# --------------------------------------------------------------------------
# 10 Auto-fragmentation.
_AUTO = b"*" * 65536
add("10.1.1", "Send text message of 65536 octets auto-fragmented into 1300-octet frames.",
    lambda c: c.send_message(OP_TEXT, _AUTO, frag=1300), Spec([msg(OP_TEXT, _AUTO)]))

# --------------------------------------------------------------------------
# X: our own cases.


def _still_serving(url):
    """Liveness probe after abuse: a new connection must echo."""
    c = ws.Conn(url, timeout=5.0)
    try:
        c.handshake()
        c.send_frame(OP_TEXT, b"still there?")
        return c.next_event(5.0) == msg(OP_TEXT, b"still there?")
    finally:
        c.close()


add("X.1.1", "Send an unmasked text frame (RFC 6455 5.1: the server MUST close).",
    lambda c: c.send_frame(OP_TEXT, b"Hello, world!", mask=False),
    Spec(fail=True, fail_codes={1002}))
add("X.1.2", "Send an unmasked binary frame of 200 octets.",
    lambda c: c.send_frame(OP_BINARY, b"\xfe" * 200, mask=False), Spec(fail=True, fail_codes={1002}))
add("X.1.3", "Send a masked text message, then an unmasked one.",
    lambda c: (c.send_frame(OP_TEXT, b"masked"), time.sleep(0.1),
               c.send_frame(OP_TEXT, b"unmasked", mask=False)),
    Spec([msg(OP_TEXT, b"masked")], fail=True, fail_codes={1002}))
add("X.1.4", "Send an unmasked continuation of a masked first fragment.",
    lambda c: (c.send_frame(OP_TEXT, b"first", fin=False),
               c.send_frame(OP_CONT, b"second", mask=False)),
    Spec(fail=True, fail_codes={1002}))
add("X.1.5", "Send an unmasked ping.",
    lambda c: c.send_frame(OP_PING, b"ping", mask=False),
    Spec(fail=True, fail_codes={1002}))
add("X.2.1", "Send a frame whose 64-bit length has the most significant bit set.",
    lambda c: c.send_raw(b"\x82\xff" + (1 << 63 | 5).to_bytes(8, "big") + b"\x00" * 4 + b"hello"),
    Spec(fail=True, fail_codes={1002, 1009}))


def _oversized(frag):
    limit = 16 * _MiB

    def run(c, res):
        c.handshake()
        payload = b"\xfe" * (limit + 1)
        c.timeout = 5.0
        c.send_message(OP_BINARY, payload, frag=frag)
        events, terminal = collect(c, 1, 10.0)
        if events:
            return FAILED, f"a message above the limit was echoed ({describe(events[0])})"
        verdict, detail, _ = finish_fail(c, terminal, res, Spec(fail=True, fail_codes={1009}))
        return verdict, detail
    return run


add("X.2.2", "Send a binary message of 16 MiB + 1 in one frame (default limit 16 MiB): 1009.",
    _oversized(None))
add("X.2.3", "Send a binary message of 16 MiB + 1 in fragments of 1 MiB: 1009.", _oversized(_MiB))


def _bad_handshake(make_request, strict=True, accept_ok=False):
    def run(c, res):
        req = make_request(c)
        c.send_raw(req)
        try:
            resp = c.read_http_response()
        except ws.ProtocolError:
            resp = None
        if resp is not None and resp[0] == 101:
            verdict = OK if accept_ok else FAILED if strict else NON_STRICT
            detail = "server accepted the upgrade"
        else:
            verdict, detail = OK, ("closed" if resp is None else f"HTTP {resp[0]}")
        c.close()
        if not _still_serving(c_url[0]):
            return FAILED, detail + "; server no longer serves new connections"
        return verdict, detail
    return run


c_url = [None]
add("X.3.1", "Handshake without Sec-WebSocket-Key.",
    _bad_handshake(lambda c: c.handshake_request(omit=("Sec-WebSocket-Key",))[0]))
add("X.3.2", "Handshake with Sec-WebSocket-Version: 12.",
    _bad_handshake(lambda c: c.handshake_request(version="12")[0]))
add("X.3.3", "Handshake without an Upgrade header.",
    _bad_handshake(lambda c: c.handshake_request(omit=("Upgrade",))[0]))
add("X.3.4", "Handshake with Upgrade: websocketx.",
    _bad_handshake(lambda c: c.handshake_request(upgrade="websocketx")[0]))
add("X.3.5", "Handshake with method POST.",
    _bad_handshake(lambda c: c.handshake_request(method="POST")[0]))
add("X.3.6", "A request line that is not HTTP.",
    _bad_handshake(lambda c: b"\x16\x03\x01\x02\x00garbage\r\n\r\n"))
add("X.3.7", "Sec-WebSocket-Key that does not decode to 16 bytes (RFC 6455 4.2.1).",
    _bad_handshake(lambda c: c.handshake_request(key="c2hvcnQ=")[0], strict=False))
add("X.3.8", "Handshake with 64 KiB of extra headers: refused or accepted, the server serves on.",
    _bad_handshake(lambda c: c.handshake_request(
        extra_headers=[(f"X-Filler-{i}", "x" * 60) for i in range(1024)])[0], accept_ok=True))


def _disconnect_mid_message(c, res):
    c.handshake()
    c.send_frame(OP_BINARY, b"\xfe" * 1000, fin=False)
    c.send_raw(ws.encode_frame(OP_CONT, b"\xfe" * 1000, fin=True)[:50])
    c.close()
    return (OK, "") if _still_serving(c_url[0]) else (FAILED, "server stopped serving")


add("X.4.1", "Disconnect in the middle of a fragmented message; the server keeps serving.",
    _disconnect_mid_message)


# X.5: the close, to the letter (RFC 6455 5.1, 5.5.1, 7.1.1): messages
# pipelined ahead of a close or of a frame that fails the connection. Each
# echo goes out before the server's Close frame or not at all, never after
# it; the server ends TCP itself once the handshake is complete.
_PIPELINED = [b"pipelined %02d " % i + b"." * 40 for i in range(20)]


def _pipelined_then(last, fail_codes=None):
    def run(c, res):
        c.handshake()
        c.send_raw(b"".join(ws.encode_frame(OP_TEXT, m) for m in _PIPELINED) + last)
        events, terminal = collect(c, 1 << 30, 5.0)
        echoed = [e[2] for e in events if e[0] == "message"]
        if echoed != _PIPELINED[:len(echoed)] or len(echoed) != len(events):
            return FAILED, "echoes out of order or unexpected frames: " + \
                ", ".join(describe(e) for e in events[:5])
        if fail_codes is None:  # our own close: every message was before it
            verdict, detail, extra = finish_clean(c, terminal, res, Spec(closed_by_me=True))
            if verdict == OK and len(echoed) < len(_PIPELINED):
                return NON_STRICT, f"{len(echoed)} of {len(_PIPELINED)} messages echoed"
        else:
            verdict, detail, extra = finish_fail(c, terminal, res,
                                                 Spec(fail=True, fail_codes=fail_codes))
        if extra:
            return FAILED, "sent " + describe(extra[0]) + " after the failing frame"
        return verdict, detail or f"{len(echoed)} of {len(_PIPELINED)} echoed before the close"
    return run


add("X.5.1", "Pipeline 20 text messages and a close (1000) in one write: all echoed, then the "
    "close reply, then the server ends TCP.", _pipelined_then(ws.encode_frame(OP_CLOSE, ws.close_payload(1000))))
add("X.5.2", "Pipeline 20 text messages and a frame with a reserved opcode: 1002, no echo after "
    "the Close frame.", _pipelined_then(ws.encode_frame(3, b""), {1002}))
add("X.5.3", "Pipeline 20 text messages and a text message with invalid UTF-8: 1007, no echo "
    "after the Close frame.", _pipelined_then(ws.encode_frame(OP_TEXT, b"\xce\xba\xff"), {1007}))
add("X.5.4", "Pipeline 20 text messages and an unmasked text frame: 1002, no echo after the "
    "Close frame.", _pipelined_then(ws.encode_frame(OP_TEXT, b"unmasked", mask=False), {1002}))
add("X.5.5", "Pipeline 20 text messages and an unmasked ping: 1002, no pong, no echo after the "
    "Close frame.", _pipelined_then(ws.encode_frame(OP_PING, b"ping", mask=False), {1002}))


def _fin_without_close(c, res):
    """A client that shuts its side (TCP FIN) without a Close frame: the
    server cleans up at once and writes nothing more (section 7.1.7 lets it
    drop the connection without a Close frame)."""
    c.handshake()
    c.sock.shutdown(socket.SHUT_WR)
    events, ended = c.wait_eof(CLOSE_TCP_WAIT)
    late = [e for e in events if e[0] not in ("eof", "reset")]
    if late:
        return FAILED, "wrote " + ", ".join(describe(e) for e in late) + " after the client's FIN"
    if not ended:
        return FAILED, f"connection still open {CLOSE_TCP_WAIT:g} s after the client's FIN"
    return OK, ""


add("X.5.6", "Shut the client's side (TCP FIN) without a close: the server ends the connection at "
    "once and writes nothing.", _fin_without_close)


# --------------------------------------------------------------------------

def select_cases(patterns):
    if not patterns:
        return list(CATALOGUE)
    pats = [p.strip() for p in patterns.split(",") if p.strip()]
    chosen = [c for c in CATALOGUE
              if any(fnmatch.fnmatch(c.id, p) or c.id == p or c.id.startswith(p.rstrip("*") + ".")
                     for p in pats)]
    return chosen


def run_suite(url, cases, agent, progress=None):
    c_url[0] = url
    results = []
    for case_obj in cases:
        res = case_obj.run(url)
        results.append(res)
        if progress:
            progress(res)
    summary = {v: sum(1 for r in results if r.verdict == v) for v in VERDICT_ORDER}
    return {
        "agent": agent,
        "url": url,
        "cases": {r.id: r.as_json() for r in results},
        "summary": summary,
        "total": len(results),
    }


def category_of(case_id):
    return case_id.split(".")[0]


def summary_table(report):
    cats = {}
    for cid, r in report["cases"].items():
        cats.setdefault(category_of(cid), {v: 0 for v in VERDICT_ORDER})[r["behavior"]] += 1
    names = {"1": "framing", "2": "ping/pong", "3": "reserved bits", "4": "opcodes",
             "5": "fragmentation", "6": "UTF-8", "7": "close", "9": "limits/perf",
             "10": "auto-fragmentation", "X": "wsbench extras"}
    lines = [f"{'category':<22}{'cases':>6}{'OK':>6}{'NON-STRICT':>12}{'INFO':>6}{'FAILED':>8}"]
    order = sorted(cats, key=lambda k: (k == "X", int(k) if k.isdigit() else 0))
    for k in order:
        c = cats[k]
        label = f"{k} {names.get(k, '')}"
        lines.append(f"{label:<22}{sum(c.values()):>6}{c[OK]:>6}{c[NON_STRICT]:>12}"
                     f"{c[INFORMATIONAL]:>6}{c[FAILED]:>8}")
    s = report["summary"]
    lines.append(f"{'total':<22}{report['total']:>6}{s[OK]:>6}{s[NON_STRICT]:>12}"
                 f"{s[INFORMATIONAL]:>6}{s[FAILED]:>8}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description="RFC 6455 conformance suite for echo servers "
                                "(Autobahn case numbering).")
    p.add_argument("--url", required=True, help="ws://HOST:PORT/ of the echo server")
    p.add_argument("--cases", default="", help="comma-separated case ids or globs (default: all)")
    p.add_argument("--json", help="write the machine-readable result here")
    p.add_argument("--agent", default="server", help="name of the server in the report")
    p.add_argument("--strict", action="store_true", help="exit 1 if any case FAILED")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = p.parse_args(argv)

    cases = select_cases(args.cases)
    if args.list:
        for c in cases:
            print(f"{c.id:<10} {c.description}")
        return 0
    if not cases:
        p.error(f"--cases: no case matches {args.cases!r}")
    try:
        ws.parse_url(args.url)
    except ValueError as e:
        p.error(f"--url: {e}")

    def progress(r):
        if args.verbose or r.verdict == FAILED:
            extra = f"  ({r.detail})" if r.detail else ""
            print(f"{r.id:<10} {r.verdict:<13} {r.duration_ms:8.1f} ms{extra}", flush=True)

    report = run_suite(args.url, cases, args.agent, progress)
    print(f"\nwsconform: {args.agent} at {args.url}")
    print(summary_table(report))
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(report, f, indent=1, sort_keys=True)
        os.replace(tmp, args.json)
    failed = report["summary"][FAILED]
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
