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
"connections"}) and exits 0. Standard library only (asyncio).
"""

import argparse
import asyncio
import base64
import hashlib
import heapq
import itertools
import json
import signal
import struct
import sys
import threading
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Counts:
    def __init__(self):
        self.received = self.echoed = self.corrupted = self.dropped = self.connections = 0

    def as_json(self):
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


async def read_frame(reader):
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", await reader.readexactly(8))[0]
    key = await reader.readexactly(4) if b1 & 0x80 else b"\0\0\0\0"
    data = await reader.readexactly(n)
    if n:
        mask = (key * ((n + 3) // 4))[:n]
        data = (int.from_bytes(data, "little") ^ int.from_bytes(mask, "little")).to_bytes(n, "little")
    return bool(b0 & 0x80), b0 & 0x0F, data


class DelayLine:
    """Releases echoes at arrival + delay with sub-millisecond precision.

    asyncio's call_later is only as precise as epoll_wait's millisecond
    timeout (it rounds up), which would add up to 1 ms to a "known" delay; a
    thread sleeping with nanosleep and handing the write back to the loop
    through call_soon_threadsafe is accurate to tens of microseconds."""

    def __init__(self, loop):
        self.loop = loop
        self.heap = []
        self.order = itertools.count()
        self.cond = threading.Condition()
        threading.Thread(target=self.run, daemon=True).start()

    def add(self, due, fn):
        with self.cond:
            heapq.heappush(self.heap, (due, next(self.order), fn))
            self.cond.notify()

    def run(self):
        while True:
            with self.cond:
                while not self.heap:
                    self.cond.wait()
                due, _, fn = self.heap[0]
                wait = due - time.monotonic()
                if wait > 0.002:
                    self.cond.wait(wait - 0.002)
                    continue
                heapq.heappop(self.heap)
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.loop.call_soon_threadsafe(fn)


class Server:
    def __init__(self, args):
        self.args = args
        self.counts = Counts()
        self.loop = None
        self.delay_line = None

    async def handshake(self, reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        key = None
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-key":
                key = value.strip()
        if not key:
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return False
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())
        return True

    def echo(self, writer, opcode, payload):
        c, a = self.counts, self.args
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

        def send():
            if not writer.is_closing():
                writer.write(data)
                c.echoed += 1

        if a.mode == "delay":
            self.delay_line.add(time.monotonic() + a.delay_ms / 1000.0, send)
        else:
            send()

    async def handle(self, reader, writer):
        sock = writer.get_extra_info("socket")
        if sock is not None:
            import socket
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if not await self.handshake(reader, writer):
                return
            self.counts.connections += 1
            msg_op, parts = None, []
            while True:
                fin, op, data = await read_frame(reader)
                if op == 8:
                    writer.write(frame(8, data[:2]))
                    await writer.drain()
                    break
                if op == 9:
                    writer.write(frame(10, data))
                elif op in (1, 2):
                    msg_op, parts = op, [data]
                elif op == 0:
                    parts.append(data)
                if op in (0, 1, 2) and fin:
                    self.echo(writer, msg_op, b"".join(parts))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def main(self):
        self.loop = asyncio.get_running_loop()
        if self.args.mode == "delay":
            self.delay_line = DelayLine(self.loop)
        server = await asyncio.start_server(self.handle, self.args.host, self.args.port,
                                            backlog=4096, limit=1 << 20)
        port = server.sockets[0].getsockname()[1]
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, stop.set)
        print(f"READY ws://{self.args.host}:{port}/", flush=True)
        await stop.wait()
        server.close()
        # Let delayed echoes scheduled before the signal go out.
        await asyncio.sleep(self.args.delay_ms / 1000.0 + 0.05 if self.args.mode == "delay" else 0)
        print(self.counts.as_json(), flush=True)


def main():
    p = argparse.ArgumentParser(description="Echo server with known faults, for honesty tests.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=("echo", "delay", "corrupt", "drop"), default="echo")
    p.add_argument("--delay-ms", type=float, default=0.0)
    p.add_argument("--every", type=int, default=0)
    p.add_argument("--max-message-size", default=None, help="accepted for compatibility")
    args = p.parse_args()
    if args.mode in ("corrupt", "drop") and args.every < 1:
        p.error(f"--mode {args.mode} needs --every N (N >= 1)")
    asyncio.run(Server(args).main())
    return 0


if __name__ == "__main__":
    sys.exit(main())
