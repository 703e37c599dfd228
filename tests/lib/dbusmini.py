# SPDX-License-Identifier: MIT
"""Just enough of a D-Bus client to time method calls: one connection to a
unix-socket bus (EXTERNAL authentication, Hello), method calls whose
arguments are strings, and their replies read up to the header (body left
unparsed). The standard library has no D-Bus; timing `wsbenchctl` or
`busctl` would time their start-up (a few milliseconds of exec, dynamic
linking and connecting) as much as the daemon's answer.

Wire format: the D-Bus specification, "Message Protocol" (little endian).
"""

import os
import socket
import struct


def _pad(buf, align):
    buf += b"\0" * (-len(buf) % align)


def _string(buf, s, code="s"):
    data = s.encode()
    if code == "g":
        buf += bytes([len(data)]) + data + b"\0"
    else:
        _pad(buf, 4)
        buf += struct.pack("<I", len(data)) + data + b"\0"


class Bus:
    def __init__(self, address, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(self._sockaddr(address))
        self.serial = 0
        self.buf = b""
        self._auth()
        self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                  "Hello")

    @staticmethod
    def _sockaddr(address):
        for part in address.split(";"):
            kind, _, rest = part.partition(":")
            if kind != "unix":
                continue
            keys = dict(kv.split("=", 1) for kv in rest.split(",") if "=" in kv)
            if "path" in keys:
                return keys["path"]
            if "abstract" in keys:
                return "\0" + keys["abstract"]
        raise ValueError(f"no unix socket in bus address {address!r}")

    def _auth(self):
        uid = str(os.getuid()).encode().hex()
        self.sock.sendall(b"\0AUTH EXTERNAL " + uid.encode() + b"\r\n")
        line = self._line()
        if not line.startswith(b"OK "):
            raise ConnectionError(f"bus refused authentication: {line!r}")
        self.sock.sendall(b"BEGIN\r\n")

    def _line(self):
        while b"\r\n" not in self.buf:
            self._recv()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("bus closed the connection")
        self.buf += data

    def _exactly(self, n):
        while len(self.buf) < n:
            self._recv()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def call(self, destination, path, interface, member, *args):
        """Calls a method whose arguments are all strings; returns
        (message type, error name or None, body bytes): type 2 is a method
        return, 3 an error."""
        self.serial += 1
        serial = self.serial
        fields = bytearray()
        for code, sig, value in ((1, "o", path), (2, "s", interface), (3, "s", member),
                                 (6, "s", destination)) + (((8, "g", "s" * len(args)),)
                                                           if args else ()):
            _pad(fields, 8)
            fields += bytes([code]) + bytes([1]) + sig.encode() + b"\0"
            _string(fields, value, sig)
        body = bytearray()
        for a in args:
            _string(body, a)
        head = bytearray(b"l\x01\x00\x01" + struct.pack("<III", len(body), serial, len(fields)))
        head += fields
        _pad(head, 8)
        self.sock.sendall(bytes(head) + bytes(body))
        while True:
            mtype, reply_to, error, body = self._message()
            if mtype in (2, 3) and reply_to == serial:
                return mtype, error, body

    def _message(self):
        fixed = self._exactly(16)
        if fixed[0:1] != b"l":
            raise ConnectionError("big-endian message: not supported here")
        mtype = fixed[1]
        body_len, _serial, fields_len = struct.unpack("<III", fixed[4:16])
        fields = self._exactly(fields_len + (-(16 + fields_len) % 8))[:fields_len]
        body = self._exactly(body_len)
        reply_to, error, i = None, None, 0
        while i < fields_len:
            i += -i % 8
            code, siglen = fields[i], fields[i + 1]
            sig = fields[i + 2:i + 2 + siglen].decode()
            i += 3 + siglen
            if sig == "u":
                i += -(i + 16) % 4
                value = struct.unpack("<I", fields[i:i + 4])[0]
                i += 4
            elif sig in ("s", "o"):
                i += -(i + 16) % 4
                n = struct.unpack("<I", fields[i:i + 4])[0]
                value = fields[i + 4:i + 4 + n].decode()
                i += 5 + n
            elif sig == "g":
                n = fields[i]
                value = fields[i + 1:i + 1 + n].decode()
                i += 2 + n
            else:
                raise ConnectionError(f"header field of type {sig!r}: not supported here")
            if code == 5:
                reply_to = value
            elif code == 4:
                error = value
        return mtype, reply_to, error, body

    def close(self):
        self.sock.close()
