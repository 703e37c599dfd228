#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An echo server that speaks TLS and permessage-deflate and breaks them on
purpose, for the bad-input tests of wsbench-load's wss:// and deflate
(tests/integration/test_tls_deflate.py). Python's stdlib only (ssl, zlib).

    tlsfaultserver.py --mode MODE [--tls-cert F --tls-key F] [--after K]

Every connection is echoed (compressed, with context takeover, when the
client offered permessage-deflate and the mode accepts it); every second
connection (the 2nd, 4th, ...) gets the fault at its K-th message (default
3) instead of the echo, so the run goes on with the others:

  rsv1-unnegotiated  deflate is never accepted; the fault is a frame with
                     RSV1 set (RFC 7692 section 6: the client fails, 1002)
  corrupt-deflate    deflate accepted; the fault is an RSV1 frame whose
                     payload is not a deflate stream (the client fails, 1007)
  tls-alert          a TLS record that fails authentication, written beneath
                     the TLS layer: the client sends its fatal alert
                     (bad_record_mac) and drops the connection

Prints "READY ws[s]://HOST:PORT/" and, on SIGTERM, one JSON line: the
connections, the faults sent and the close codes received from clients.
"""

import argparse
import base64
import hashlib
import json
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import zlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(opcode, payload, rsv1=False):
    n = len(payload)
    b0 = 0x80 | opcode | (0x40 if rsv1 else 0)
    if n < 126:
        head = bytes([b0, n])
    elif n < 65536:
        head = bytes([b0, 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, 127]) + struct.pack("!Q", n)
    return head + payload


class Server:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.connections = 0
        self.faults = 0
        self.close_codes = {}
        self.ctx = None
        if args.tls_cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(args.tls_cert, args.tls_key)

    def read_exact(self, s, n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("eof")
            buf += chunk
        return buf

    def handshake(self, s):
        req = b""
        while b"\r\n\r\n" not in req:
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError("eof")
            req += chunk
        headers = {}
        for line in req.split(b"\r\n")[1:]:
            if b":" in line:
                k, v = line.split(b":", 1)
                headers[k.strip().lower()] = v.strip()
        accept = base64.b64encode(hashlib.sha1(headers[b"sec-websocket-key"] + GUID).digest())
        offered = b"permessage-deflate" in headers.get(b"sec-websocket-extensions", b"")
        deflate = offered and self.args.mode != "rsv1-unnegotiated"
        ext = b"Sec-WebSocket-Extensions: permessage-deflate\r\n" if deflate else b""
        s.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n" + ext +
                  b"\r\n")
        return deflate

    def handle(self, raw, index):
        s = raw
        try:
            if self.ctx:
                s = self.ctx.wrap_socket(raw, server_side=True)
            deflate = self.handshake(s)
            inflater = zlib.decompressobj(-15)
            deflater = zlib.compressobj(6, zlib.DEFLATED, -15)
            n = 0
            while True:
                b0, b1 = self.read_exact(s, 2)
                length = b1 & 0x7f
                if length == 126:
                    length = struct.unpack("!H", self.read_exact(s, 2))[0]
                elif length == 127:
                    length = struct.unpack("!Q", self.read_exact(s, 8))[0]
                key = self.read_exact(s, 4)
                data = bytes(b ^ key[i % 4] for i, b in enumerate(self.read_exact(s, length)))
                opcode = b0 & 0x0f
                if opcode == 8:
                    code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                    with self.lock:
                        self.close_codes[code] = self.close_codes.get(code, 0) + 1
                    s.sendall(frame(8, data[:2]))
                    return
                if opcode not in (1, 2):
                    continue
                if b0 & 0x40:
                    data = inflater.decompress(data + b"\x00\x00\xff\xff")
                n += 1
                if index % 2 == 1 and n == self.args.after:
                    with self.lock:
                        self.faults += 1
                    self.fault(raw, s, opcode, data)
                    continue
                if deflate:
                    z = deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH)
                    s.sendall(frame(opcode, z[:-4], rsv1=True))
                else:
                    s.sendall(frame(opcode, data))
        except (ConnectionError, OSError, ssl.SSLError, zlib.error, ValueError):
            pass
        finally:
            try:
                s.close()
            except OSError:
                pass

    def fault(self, raw, s, opcode, data):
        mode = self.args.mode
        if mode == "rsv1-unnegotiated":
            z = zlib.compressobj(6, zlib.DEFLATED, -15)
            s.sendall(frame(opcode, (z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH))[:-4], True))
        elif mode == "corrupt-deflate":
            s.sendall(frame(opcode, b"\xff\xff\xff\xff" + data[:32], rsv1=True))
        elif mode == "tls-alert":
            # An application-data record that fails authentication, written
            # beneath TLS (Python's ssl cannot send a fatal alert itself; a
            # plaintext alert record is ignored by OpenSSL under TLS 1.3):
            # the client answers with a bad_record_mac alert and drops the
            # connection, the error class of a mid-run alert.
            # (wrap_socket() detached @raw: write to the descriptor.)
            os.write(s.fileno(), b"\x17\x03\x03\x00\x20" + bytes(range(32)))

    def serve(self):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((self.args.host, self.args.port))
        ls.listen(512)
        scheme = "wss" if self.ctx else "ws"
        print(f"READY {scheme}://{self.args.host}:{ls.getsockname()[1]}/", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: stop.set())
        ls.settimeout(0.1)
        while not stop.is_set():
            try:
                raw, _ = ls.accept()
            except socket.timeout:
                continue
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                index = self.connections
                self.connections += 1
            threading.Thread(target=self.handle, args=(raw, index), daemon=True).start()
        print(json.dumps({"connections": self.connections, "faults": self.faults,
                          "close_codes": self.close_codes}), flush=True)


def main():
    p = argparse.ArgumentParser(description="TLS/deflate fault server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=("rsv1-unnegotiated", "corrupt-deflate", "tls-alert"),
                   required=True)
    p.add_argument("--after", type=int, default=3)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--max-message-size", default=None, help="accepted for compatibility")
    Server(p.parse_args()).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
