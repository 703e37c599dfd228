#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A WebSocket server that answers a client's first message with one huge
fragmented message: a text frame without FIN, then continuation frames,
--megabytes in all, then the final fragment. Later messages get no answer.

It is the misbehaving server of the test that wsbench-load stops buffering
a fragmented message at the expected size + 1 and counts it as corrupted,
instead of growing its buffer with whatever the server sends.

    floodserver.py --port N [--megabytes M]

Prints "READY ws://HOST:PORT/" when listening; exits 0 on SIGTERM.
"""

import argparse
import base64
import hashlib
import signal
import socket
import struct
import sys
import threading

from faultserver import GUID, Reader, frame

CHUNK = 1 << 16


def header(fin, opcode, n):
    b0 = (0x80 if fin else 0) | opcode
    if n < 126:
        return struct.pack("!BB", b0, n)
    if n < 65536:
        return struct.pack("!BBH", b0, 126, n)
    return struct.pack("!BBQ", b0, 127, n)


def handshake(reader, sock):
    head = reader.until(b"\r\n\r\n").decode("latin-1")
    key = next(line.partition(":")[2].strip() for line in head.split("\r\n")[1:]
               if line.partition(":")[0].strip().lower() == "sec-websocket-key")
    accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
    sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())


def flood(sock, total):
    payload = b"x" * CHUNK
    sock.sendall(header(False, 1, CHUNK) + payload)
    for _ in range(total // CHUNK - 2):
        sock.sendall(header(False, 0, CHUNK) + payload)
    sock.sendall(header(True, 0, CHUNK) + payload)


def handle(sock, total):
    reader = Reader(sock)
    flooded = False
    try:
        handshake(reader, sock)
        while True:
            _, op, data = reader.frame()
            if op == 8:
                sock.sendall(frame(8, data[:2]))
                break
            if op in (1, 2) and not flooded:
                flood(sock, total)
                flooded = True
    except (ConnectionError, OSError, StopIteration):
        pass
    finally:
        sock.close()


def main():
    p = argparse.ArgumentParser(description="Answers with one huge fragmented message.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--megabytes", type=int, default=64)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.host, args.port))
    lsock.listen(64)
    print(f"READY ws://{args.host}:{lsock.getsockname()[1]}/", flush=True)
    while True:
        sock, _ = lsock.accept()
        threading.Thread(target=handle, args=(sock, args.megabytes << 20), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
