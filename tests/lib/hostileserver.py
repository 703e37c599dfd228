#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A WebSocket server that turns hostile at a known message, for the fault
tests of wsbench-load (tests/integration/test_faults.py).

    hostileserver.py --mode MODE [--after K] [--port N]

Each connection is answered and served like tests/lib/faultserver.py's echo
mode (its handshake, frame reader and counts are reused) until its K-th
message (default 3), which gets, instead of its echo:

  close-mid-frame   the echo's header and half its payload, then a TCP FIN
  reset             the same, then a TCP RST (SO_LINGER 0)
  masked            the echo as a masked frame (servers must not mask, 5.1)
  length-2-63       a header whose 64-bit length has the top bit set (5.2)
  length-max        a header of length 2^63 - 1 and 1 KiB of it, then silence
  stall             nothing, now or later (the connection stays open)
  garbage           200 random bytes (a fixed seed), starting with 0xff
  control-126       a ping of 126 bytes (control frames carry <= 125, 5.5)
  close-1011        a Close frame with code 1011, and nothing after it

Prints "READY ws://HOST:PORT/" when listening and, on SIGTERM, the counts as
one JSON line: faultserver's, plus "hostile" (connections that got the
fault).
"""

import argparse
import json
import os
import random
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultserver  # noqa: E402
from faultserver import frame  # noqa: E402

MODES = ("close-mid-frame", "reset", "masked", "length-2-63", "length-max", "stall", "garbage",
         "control-126", "close-1011")


class Hostile(faultserver.Server):
    def __init__(self, args):
        args.delay_ms, args.every, args.exit_after = 0.0, 0, 0.0
        super().__init__(args)
        self.hostile = 0
        self.silent = set()  # connections that answer nothing any more

    def echo(self, conn, opcode, payload, arrived):
        if conn in self.silent:
            with self.counts.lock:
                self.counts.received += 1
            return
        conn.n = getattr(conn, "n", 0) + 1
        if conn.n < self.args.after:
            return super().echo(conn, opcode, payload, arrived)
        with self.counts.lock:
            self.counts.received += 1
            self.hostile += 1
        mode = self.args.mode
        whole = frame(opcode, payload)
        if mode in ("close-mid-frame", "reset"):
            conn.send(whole[:len(whole) // 2])
            if mode == "reset":
                conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                conn.sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionError(mode)
        if mode == "masked":
            key = b"\x11\x22\x33\x44"
            n = len(payload)
            head = frame(opcode, payload)[:-n] if n else frame(opcode, b"")
            head = bytes([head[0], head[1] | 0x80]) + head[2:]
            conn.send(head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload)))
        elif mode == "length-2-63":
            conn.send(bytes([0x80 | opcode, 127]) + struct.pack("!Q", 1 << 63) + payload[:16])
        elif mode == "length-max":
            conn.send(bytes([0x80 | opcode, 127]) + struct.pack("!Q", (1 << 63) - 1) + b"x" * 1024)
            self.silent.add(conn)
        elif mode == "stall":
            self.silent.add(conn)
        elif mode == "garbage":
            conn.send(b"\xff" + random.Random(self.args.after).randbytes(199))
        elif mode == "control-126":
            conn.send(frame(9, b"p" * 126))
        elif mode == "close-1011":
            conn.send(frame(8, struct.pack("!H", 1011)))
            self.silent.add(conn)

    def serve(self):
        super().serve()
        counts = json.loads(self.counts.as_json())
        counts["hostile"] = self.hostile
        print(json.dumps(counts), flush=True)


def main():
    faultserver.without_malloc_perturb()
    p = argparse.ArgumentParser(description="A WebSocket server that turns hostile.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=MODES, required=True)
    p.add_argument("--after", type=int, default=3,
                   help="the message of each connection that gets the fault (1 = the first)")
    p.add_argument("--max-message-size", default=None, help="accepted for compatibility")
    Hostile(p.parse_args()).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
