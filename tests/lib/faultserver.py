#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An echo server that misbehaves on purpose, by a known amount, and counts.

It is the independent source the load engine's honesty tests compare
against: whatever wsbench-load reports must match what this server did.

    faultserver.py [--port N] [--mode echo|delay|corrupt|drop]
                   [--delay-ms D] [--every N]

  echo     echo every message (and count)
  delay    echo every message D ms after it arrived
  corrupt  echo every message, flipping one payload bit in every N-th
  drop     echo every message except every N-th

Prints "READY ws://HOST:PORT/" when listening. On SIGTERM it prints one JSON
line with its counts ({"received", "echoed", "corrupted", "dropped",
"connections"}) and exits 0.

Plain blocking sockets and threads (standard library only): one thread per
connection reads, and in delay mode one sender thread releases echoes at
arrival + D with sub-millisecond precision. An asyncio version measured
0.5-1.1 ms of its own overhead (epoll timeouts round up to milliseconds),
too much for a test that checks latency to within 1 ms.
"""

import argparse
import base64
import hashlib
import heapq
import itertools
import json
import os
import signal
import socket
import struct
import sys
import threading
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.received = self.echoed = self.corrupted = self.dropped = self.connections = 0

    def as_json(self):
        with self.lock:
            return json.dumps({"received": self.received, "echoed": self.echoed,
                               "corrupted": self.corrupted, "dropped": self.dropped,
                               "connections": self.connections})


def frame(opcode, payload):
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


class Reader:
    """Buffered exact reads from a blocking socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def exactly(self, n):
        while len(self.buf) < n:
            self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def until(self, marker, limit=65536):
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ConnectionError("header too long")
            self.fill()
        i = self.buf.index(marker) + len(marker)
        out = bytes(self.buf[:i])
        del self.buf[:i]
        return out

    def frame(self):
        b0, b1 = self.exactly(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.exactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.exactly(8))[0]
        key = self.exactly(4) if b1 & 0x80 else b"\0\0\0\0"
        data = self.exactly(n)
        if n:
            mask = (key * ((n + 3) // 4))[:n]
            data = (int.from_bytes(data, "little") ^ int.from_bytes(mask, "little")).to_bytes(
                n, "little")
        return bool(b0 & 0x80), b0 & 0x0F, data


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.lock = threading.Lock()  # the reader thread and the delay line both send

    def send(self, data):
        with self.lock:
            try:
                self.sock.sendall(data)
                return True
            except OSError:
                return False


class DelayLine:
    """Sends each echo at its due time from one thread."""

    def __init__(self, counts):
        self.counts = counts
        self.heap = []
        self.order = itertools.count()
        self.cond = threading.Condition()
        threading.Thread(target=self.run, daemon=True).start()

    def add(self, due, conn, data):
        with self.cond:
            heapq.heappush(self.heap, (due, next(self.order), conn, data))
            self.cond.notify()

    def pending(self):
        with self.cond:
            return len(self.heap)

    def run(self):
        while True:
            with self.cond:
                while not self.heap:
                    self.cond.wait()
                due = self.heap[0][0]
                wait = due - time.monotonic()
                if wait > 0.002:
                    self.cond.wait(wait - 0.002)
                    continue
                _, _, conn, data = heapq.heappop(self.heap)
            # Sleep to within 0.3 ms, then spin: time.sleep() alone can
            # overshoot by a scheduler tick on a busy machine.
            wait = due - time.monotonic()
            if wait > 0.0003:
                time.sleep(wait - 0.0003)
            while time.monotonic() < due:
                pass
            if conn.send(data):
                with self.counts.lock:
                    self.counts.echoed += 1


class Server:
    def __init__(self, args):
        self.args = args
        self.counts = Counts()
        self.delay_line = DelayLine(self.counts) if args.mode == "delay" else None

    def handshake(self, reader, conn):
        head = reader.until(b"\r\n\r\n").decode("latin-1")
        key = None
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-key":
                key = value.strip()
        if not key:
            conn.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return False
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        return conn.send(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())

    def echo(self, conn, opcode, payload, arrived):
        c, a = self.counts, self.args
        with c.lock:
            c.received += 1
            nth = a.every and c.received % a.every == 0
            if a.mode == "drop" and nth:
                c.dropped += 1
                return
            if a.mode == "corrupt" and nth and payload:
                # Flip the lowest bit of a middle byte: text stays ASCII.
                mid = len(payload) // 2
                payload = payload[:mid] + bytes([payload[mid] ^ 1]) + payload[mid + 1:]
                c.corrupted += 1
        data = frame(opcode, payload)
        if self.delay_line:
            self.delay_line.add(arrived + a.delay_ms / 1000.0, conn, data)
        elif conn.send(data):
            with c.lock:
                c.echoed += 1

    def handle(self, sock):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader, conn = Reader(sock), Conn(sock)
        try:
            if not self.handshake(reader, conn):
                return
            with self.counts.lock:
                self.counts.connections += 1
            msg_op, parts = None, []
            while True:
                fin, op, data = reader.frame()
                arrived = time.monotonic()
                if op == 8:
                    conn.send(frame(8, data[:2]))
                    break
                if op == 9:
                    conn.send(frame(10, data))
                elif op in (1, 2):
                    msg_op, parts = op, [data]
                elif op == 0:
                    parts.append(data)
                if op in (0, 1, 2) and fin:
                    self.echo(conn, msg_op, b"".join(parts), arrived)
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            # Let delayed echoes for this connection go out before closing.
            while self.delay_line and self.delay_line.pending():
                time.sleep(0.005)
            try:
                sock.close()
            except OSError:
                pass

    def serve(self):
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind((self.args.host, self.args.port))
        lsock.listen(4096)
        stop = threading.Event()

        def on_signal(signum, frame_):
            stop.set()
            try:
                lsock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        print(f"READY ws://{self.args.host}:{lsock.getsockname()[1]}/", flush=True)
        if self.args.exit_after:
            def crash():
                print(self.counts.as_json(), flush=True)
                os._exit(3)
            threading.Timer(self.args.exit_after, crash).start()
        while not stop.is_set():
            try:
                sock, _ = lsock.accept()
            except OSError:
                break
            threading.Thread(target=self.handle, args=(sock,), daemon=True).start()
        lsock.close()
        if self.delay_line:
            deadline = time.monotonic() + self.args.delay_ms / 1000.0 + 1.0
            while self.delay_line.pending() and time.monotonic() < deadline:
                time.sleep(0.01)
        print(self.counts.as_json(), flush=True)


def without_malloc_perturb():
    """Restart this process without MALLOC_PERTURB_.

    meson sets it for every test, and whatever starts this server (the test
    itself, or wsbenchd on the test's behalf) passes it on; it makes glibc
    fill every allocation, which adds about 1 ms to each echo and lets this
    server fall behind the load it is meant to count exactly.
    """
    if "MALLOC_PERTURB_" in os.environ:
        env = dict(os.environ)
        del env["MALLOC_PERTURB_"]
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def main():
    without_malloc_perturb()
    p = argparse.ArgumentParser(description="Echo server with known faults, for honesty tests.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=("echo", "delay", "corrupt", "drop"), default="echo")
    p.add_argument("--delay-ms", type=float, default=0.0)
    p.add_argument("--every", type=int, default=0)
    p.add_argument("--exit-after", type=float, default=0.0,
                   help="exit with status 3 after this many seconds (a server crash)")
    p.add_argument("--max-message-size", default=None, help="accepted for compatibility")
    args = p.parse_args()
    if args.mode in ("corrupt", "drop") and args.every < 1:
        p.error(f"--mode {args.mode} needs --every N (N >= 1)")
    if args.mode == "delay":
        # Hand the GIL over quickly: the delay line must not wait for a
        # reader thread's time slice (5 ms by default). Only here: with a
        # hundred reader threads, switching every 0.2 ms costs more than the
        # echoes themselves.
        sys.setswitchinterval(0.0002)
    Server(args).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
