# SPDX-License-Identifier: MIT
"""A deliberately low-level RFC 6455 client for wsbench's tests.

It writes frames byte by byte as the tests ask (bad masks, reserved bits,
chopped writes), and reads the server's frames back as events, so tests can
judge a server's behaviour instead of trusting a library that would hide it.
Python standard library only.
"""

import base64
import hashlib
import os
import select
import socket
import struct
import time
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class ProtocolError(Exception):
    """The server sent something a client must reject."""


def parse_url(url):
    parts = urlsplit(url)
    if parts.scheme != "ws":
        raise ValueError(f"only ws:// URLs are supported: {url}")
    host = parts.hostname or "127.0.0.1"
    return host, parts.port or 80, parts.path or "/"


def mask_bytes(key, payload):
    if not payload:
        return b""
    # XOR in bulk through integers: fast enough for 16 MiB payloads.
    n = len(payload)
    reps = (key * ((n + 3) // 4))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(reps, "little")).to_bytes(n, "little")


def encode_frame(opcode, payload=b"", fin=True, rsv=0, mask=True, length=None, key=None):
    """Builds one frame. length= overrides the encoded payload length."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + payload
    key = key if key is not None else os.urandom(4)
    return head + key + mask_bytes(key, payload)


def close_payload(code=None, reason=b""):
    if code is None:
        return b""
    if isinstance(reason, str):
        reason = reason.encode()
    return struct.pack("!H", code) + reason


class Conn:
    """One client connection. Events read are tuples:
    ("message", opcode, payload), ("ping", payload), ("pong", payload),
    ("close", code, reason), ("eof",), ("reset",)."""

    def __init__(self, url, timeout=5.0):
        self.host, self.port, self.path = parse_url(url)
        self.timeout = timeout
        self.sock = socket.create_connection((self.host, self.port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.frag_op = None
        self.frag = bytearray()
        self.closed_tcp = False
        self.close_received = None
        self.send_failed = False

    # --- handshake -------------------------------------------------------
    def handshake_request(self, key=None, extra_headers=(), version="13", upgrade="websocket",
                          method="GET", omit=()):
        key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
        lines = [f"{method} {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        headers = [("Upgrade", upgrade), ("Connection", "Upgrade"),
                   ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", version)]
        for name, value in headers:
            if name not in omit:
                lines.append(f"{name}: {value}")
        lines.extend(f"{n}: {v}" for n, v in extra_headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode(), key

    def read_http_response(self, limit=65536):
        """Returns (status, headers dict) or None if the peer closed first."""
        deadline = time.monotonic() + self.timeout
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > limit:
                raise ProtocolError("HTTP response head too long")
            if not self._fill(deadline):
                return None
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        self.buf = bytearray(rest)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise ProtocolError(f"bad status line {lines[0]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return int(parts[1]), headers

    def handshake(self, **kw):
        request, key = self.handshake_request(**kw)
        self.sock.sendall(request)
        resp = self.read_http_response()
        if resp is None:
            raise ProtocolError("connection closed during handshake")
        status, headers = resp
        if status != 101:
            raise ProtocolError(f"handshake answered {status}")
        expect = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        if headers.get("sec-websocket-accept") != expect:
            raise ProtocolError("wrong Sec-WebSocket-Accept")
        return headers

    # --- sending ---------------------------------------------------------
    def send_raw(self, data, chop=None, delay=0.0):
        """Writes data, in pieces of chop bytes with delay between them."""
        try:
            if not chop:
                self.sock.sendall(data)
                return True
            for i in range(0, len(data), chop):
                self.sock.sendall(data[i:i + chop])
                if delay:
                    time.sleep(delay)
            return True
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            self.send_failed = True
            return False

    def send_frame(self, opcode, payload=b"", fin=True, rsv=0, mask=True, chop=None,
                   delay=0.0, length=None):
        return self.send_raw(encode_frame(opcode, payload, fin, rsv, mask, length), chop, delay)

    def send_message(self, opcode, payload, frag=None, chop=None, delay=0.0):
        """Sends one message, split into frames of frag payload bytes."""
        if not frag or len(payload) <= frag:
            return self.send_frame(opcode, payload, chop=chop, delay=delay)
        parts = [payload[i:i + frag] for i in range(0, len(payload), frag)]
        data = bytearray()
        for i, part in enumerate(parts):
            data += encode_frame(opcode if i == 0 else OP_CONT, part, fin=i == len(parts) - 1)
        return self.send_raw(bytes(data), chop, delay)

    def send_close(self, code=1000, reason=b""):
        return self.send_frame(OP_CLOSE, close_payload(code, reason))

    # --- receiving -------------------------------------------------------
    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or self.closed_tcp:
            return False
        r, _, _ = select.select([self.sock], [], [], remaining)
        if not r:
            return False
        try:
            data = self.sock.recv(1 << 20)
        except (ConnectionResetError, OSError):
            self.closed_tcp = "reset"
            return False
        if not data:
            self.closed_tcp = "eof"
            return False
        self.buf += data
        return True

    def _parse_frame(self):
        b = self.buf
        if len(b) < 2:
            return None
        b0, b1 = b[0], b[1]
        n = b1 & 0x7F
        pos = 2
        if n == 126:
            if len(b) < 4:
                return None
            n = struct.unpack_from("!H", b, 2)[0]
            pos = 4
        elif n == 127:
            if len(b) < 10:
                return None
            n = struct.unpack_from("!Q", b, 2)[0]
            pos = 10
        if b1 & 0x80:
            raise ProtocolError("server frame is masked (RFC 6455 5.1)")
        if len(b) < pos + n:
            return None
        payload = bytes(b[pos:pos + n])
        del b[:pos + n]
        return bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, payload

    def _frame_to_event(self, fin, rsv, op, payload):
        if rsv:
            raise ProtocolError(f"server frame has RSV bits {rsv}")
        if op == OP_CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            self.close_received = (code, payload[2:])
            return ("close", code, payload[2:])
        if op == OP_PING:
            return ("ping", payload)
        if op == OP_PONG:
            return ("pong", payload)
        if op in (OP_TEXT, OP_BINARY):
            if self.frag_op is not None:
                raise ProtocolError("new message inside a fragmented one")
            if fin:
                return ("message", op, payload)
            self.frag_op, self.frag = op, bytearray(payload)
            return None
        if op == OP_CONT:
            if self.frag_op is None:
                raise ProtocolError("continuation without a message")
            self.frag += payload
            if not fin:
                return None
            ev = ("message", self.frag_op, bytes(self.frag))
            self.frag_op, self.frag = None, bytearray()
            return ev
        raise ProtocolError(f"server sent reserved opcode {op}")

    def next_event(self, timeout=None):
        """The next event, or None on timeout."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            frame = self._parse_frame()
            if frame is not None:
                ev = self._frame_to_event(*frame)
                if ev is not None:
                    return ev
                continue
            if self.closed_tcp:
                return (self.closed_tcp,)
            if not self._fill(deadline):
                if self.closed_tcp:
                    continue
                return None

    def recv_message(self, timeout=None):
        """Next data message, answering nothing; raises on anything else."""
        ev = self.next_event(timeout)
        if ev is None or ev[0] != "message":
            raise ProtocolError(f"expected a message, got {ev!r}")
        return ev[1], ev[2]

    def wait_eof(self, timeout):
        """Reads until the TCP connection ends; returns the events seen."""
        events = []
        deadline = time.monotonic() + timeout
        while True:
            ev = self.next_event(max(0.0, deadline - time.monotonic()))
            if ev is None:
                return events, False
            events.append(ev)
            if ev[0] in ("eof", "reset"):
                return events, True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
