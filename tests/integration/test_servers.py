#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Integration tests for the echo servers: each test starts the real server
binary on a free loopback port and talks RFC 6455 to it over real sockets.

    test_servers.py --server c-lws|go-gorilla|rust-tungstenite|node-ws|dotnet-kestrel [unittest args]

Every server must pass the common contract; tests marked "built-in only"
cover options that only wsbench-echo has (--threads, --max-connections,
bounded memory under a slow reader).
"""

import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import servers  # noqa: E402
import wsproto as ws  # noqa: E402
from wsproto import OP_BINARY, OP_TEXT  # noqa: E402

SERVER = os.environ.get("WSBENCH_TEST_SERVER", "c-lws")
if "--server" in sys.argv:
    _i = sys.argv.index("--server")
    SERVER = sys.argv[_i + 1]
    del sys.argv[_i:_i + 2]
MiB = 1024 * 1024


def connect(url, timeout=10.0):
    c = ws.Conn(url, timeout=timeout)
    c.handshake()
    return c


class EchoContract(unittest.TestCase):
    """What every echo server promises."""

    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.server = servers.ServerProcess(SERVER, cls.server_args).start()
        cls.url = cls.server.url

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def echo_once(self, op, payload, frag=None):
        c = connect(self.url)
        try:
            c.send_message(op, payload, frag=frag)
            got_op, got = c.recv_message(timeout=30.0)
            self.assertEqual(got_op, op)
            self.assertEqual(len(got), len(payload))
            self.assertTrue(got == payload, "echo differs from what was sent")
        finally:
            c.close()

    def test_text(self):
        self.echo_once(OP_TEXT, "wsbench ✓ echo".encode())

    def test_binary(self):
        self.echo_once(OP_BINARY, bytes(range(256)) * 4)

    def test_empty_text_and_binary(self):
        self.echo_once(OP_TEXT, b"")
        self.echo_once(OP_BINARY, b"")

    def test_one_byte(self):
        self.echo_once(OP_BINARY, b"\x00")

    def test_1mib(self):
        self.echo_once(OP_BINARY, os.urandom(MiB))

    def test_16mib(self):
        self.echo_once(OP_BINARY, os.urandom(16 * MiB))

    def test_fragmented_message_echoed_whole(self):
        self.echo_once(OP_TEXT, b"0123456789" * 1000, frag=333)

    def test_split_across_tcp_reads(self):
        c = connect(self.url)
        try:
            payload = b"chopped" * 100
            c.send_frame(OP_TEXT, payload, chop=7, delay=0.0005)
            self.assertEqual(c.recv_message(), (OP_TEXT, payload))
        finally:
            c.close()

    def test_ping_pong(self):
        c = connect(self.url)
        try:
            c.send_frame(ws.OP_PING, b"are you there")
            self.assertEqual(c.next_event(), ("pong", b"are you there"))
        finally:
            c.close()

    def test_close_handshake_echoes_code(self):
        c = connect(self.url)
        try:
            c.send_close(4321, b"bye")
            ev = c.next_event()
            self.assertEqual(ev[0], "close")
            self.assertEqual(ev[1], 4321)
            _, ended = c.wait_eof(5.0)
            self.assertTrue(ended, "server did not close TCP after the close handshake")
        finally:
            c.close()

    def test_100_connections_1000_messages_in_order(self):
        """100 concurrent connections, each sending 1,000 numbered messages
        without waiting (pipelined) and checking the echoes come back in order."""
        conns = [connect(self.url) for _ in range(100)]
        sel = selectors.DefaultSelector()
        try:
            pending = {}
            for i, c in enumerate(conns):
                data = b"".join(ws.encode_frame(OP_BINARY, struct.pack("!II", i, n) + b"x" * 24)
                                for n in range(1000))
                c.sock.setblocking(False)
                pending[c] = [memoryview(data), 0]
                sel.register(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
            deadline = time.monotonic() + 120
            done = 0
            while done < len(conns):
                self.assertLess(time.monotonic(), deadline, "echoes did not all arrive in time")
                for key, events in sel.select(1.0):
                    c = key.data
                    state = pending[c]
                    if events & selectors.EVENT_WRITE and state[0]:
                        try:
                            n = c.sock.send(state[0])
                            state[0] = state[0][n:]
                        except BlockingIOError:
                            pass
                        if not state[0]:
                            sel.modify(c.sock, selectors.EVENT_READ, c)
                    if events & selectors.EVENT_READ:
                        try:
                            chunk = c.sock.recv(1 << 20)
                        except BlockingIOError:
                            continue
                        self.assertTrue(chunk, "server closed a connection early")
                        c.buf += chunk
                        while True:
                            frame = c._parse_frame()
                            if frame is None:
                                break
                            fin, rsv, op, payload = frame
                            self.assertTrue(fin and op == OP_BINARY)
                            idx, seq = struct.unpack("!II", payload[:8])
                            self.assertEqual((idx, seq), (conns.index(c), state[1]))
                            self.assertEqual(payload[8:], b"x" * 24)
                            state[1] += 1
                            if state[1] == 1000:
                                done += 1
                                sel.unregister(c.sock)
                                break
        finally:
            sel.close()
            for c in conns:
                c.close()

    def test_message_above_limit_is_refused(self):
        srv = servers.ServerProcess(SERVER, ["--max-message-size", "1024"]).start()
        try:
            c = connect(srv.url)
            c.send_frame(OP_BINARY, b"a" * 1024)
            self.assertEqual(c.recv_message(), (OP_BINARY, b"a" * 1024))
            c.send_frame(OP_BINARY, b"b" * 1025)
            ev = c.next_event(5.0)
            self.assertIsNotNone(ev, "server neither echoed nor closed")
            self.assertIn(ev[0], ("close", "eof", "reset"), f"oversized message got {ev!r}")
            if ev[0] == "close" and SERVER == "c-lws":
                self.assertEqual(ev[1], 1009)
            c.close()
        finally:
            srv.stop()


class Lifecycle(unittest.TestCase):
    """Start-up and shutdown behaviour, each on a server of its own."""

    def test_sigterm_closes_with_1001_and_exits_0(self):
        srv = servers.ServerProcess(SERVER).start()
        c = connect(srv.url)
        c.send_frame(OP_TEXT, b"hi")
        self.assertEqual(c.recv_message(), (OP_TEXT, b"hi"))
        srv.proc.send_signal(signal.SIGTERM)
        ev = c.next_event(3.0)
        self.assertIsNotNone(ev, "no close frame after SIGTERM")
        self.assertEqual(ev[0], "close", f"expected a close frame, got {ev!r}")
        self.assertEqual(ev[1], 1001)
        c.send_close(1001)
        rc, took = srv.stop(timeout=5.0)
        c.close()
        self.assertEqual(rc, 0)
        self.assertLess(took, 3.0, "server took too long to exit after SIGTERM")

    def test_sigint_idle_exits_0(self):
        srv = servers.ServerProcess(SERVER).start()
        rc, took = srv.stop(sig=signal.SIGINT)
        self.assertEqual(rc, 0)
        self.assertLess(took, 3.0)

    def run_bad(self, args):
        argv = servers.server_command(SERVER) + args
        return subprocess.run(argv, capture_output=True, text=True, timeout=30)

    def test_invalid_port_exits_2_naming_it(self):
        for value in ("70000", "abc", "-1"):
            r = self.run_bad(["--port", value])
            self.assertEqual(r.returncode, 2, f"--port {value}: {r.stderr}")
            self.assertIn("port", r.stderr)

    def test_unknown_option_exits_2(self):
        r = self.run_bad(["--no-such-option"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("no-such-option", r.stderr)

    def test_port_in_use_exits_1(self):
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        try:
            port = blocker.getsockname()[1]
            r = self.run_bad(["--port", str(port)])
            self.assertEqual(r.returncode, 1, r.stderr)
        finally:
            blocker.close()


@unittest.skipUnless(SERVER == "c-lws", "built-in only")
class BuiltinOptions(unittest.TestCase):
    """Options only wsbench-echo has."""

    def test_threads_share_the_port(self):
        with servers.ServerProcess(SERVER, ["--threads", "2"]) as srv:
            conns = [connect(srv.url) for _ in range(40)]
            for i, c in enumerate(conns):
                c.send_frame(OP_TEXT, f"conn {i}".encode())
            for i, c in enumerate(conns):
                self.assertEqual(c.recv_message(), (OP_TEXT, f"conn {i}".encode()))
                c.close()
            threads = len(os.listdir(f"/proc/{srv.proc.pid}/task"))
            self.assertGreaterEqual(threads, 3)  # main + 2 workers

    def test_max_connections_refuses_with_1013(self):
        with servers.ServerProcess(SERVER, ["--max-connections", "2"]) as srv:
            a, b = connect(srv.url), connect(srv.url)
            c = connect(srv.url)
            ev = c.next_event(3.0)
            self.assertEqual(ev[0], "close")
            self.assertEqual(ev[1], 1013)
            for x in (a, b):
                x.send_frame(OP_TEXT, b"still served")
                self.assertEqual(x.recv_message(), (OP_TEXT, b"still served"))
            a.send_close()
            a.wait_eof(3.0)
            time.sleep(0.2)
            d = connect(srv.url)
            d.send_frame(OP_TEXT, b"slot freed")
            self.assertEqual(d.recv_message(), (OP_TEXT, b"slot freed"))
            for x in (a, b, c, d):
                x.close()

    def test_memory_bounded_under_slow_reader(self):
        """A client that sends without reading must be held back by TCP
        (rx flow control), not buffered without limit."""
        with servers.ServerProcess(SERVER) as srv:
            before = servers.rss_bytes(srv.proc.pid)
            c = connect(srv.url)
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            c.sock.settimeout(2.0)
            frame = ws.encode_frame(OP_BINARY, b"\xab" * 65536)
            sent = 0
            try:
                while sent < 512 * MiB:
                    c.sock.sendall(frame)
                    sent += len(frame)
            except socket.timeout:
                pass
            grown = servers.rss_bytes(srv.proc.pid) - before
            c.close()
            self.assertLess(sent, 256 * MiB, "server kept reading from a client that never reads")
            self.assertLess(grown, 64 * MiB, f"server RSS grew by {grown / MiB:.1f} MiB")
            print(f"\n  slow reader: accepted {sent / MiB:.1f} MiB before blocking; "
                  f"server RSS +{grown / MiB:.1f} MiB", file=sys.stderr)

    def test_survives_unmasked_frames_and_serves_on(self):
        with servers.ServerProcess(SERVER) as srv:
            for _ in range(20):
                c = connect(srv.url)
                c.send_frame(OP_TEXT, b"bad", mask=False)
                ev = c.next_event(3.0)
                self.assertEqual(ev[:2], ("close", 1002))
                c.close()
            c = connect(srv.url)
            c.send_frame(OP_TEXT, b"good")
            self.assertEqual(c.recv_message(), (OP_TEXT, b"good"))
            c.close()


def main():
    argv = sys.argv[:]
    if SERVER not in servers.SERVER_NAMES:
        print(f"test_servers.py: --server: unknown server {SERVER!r}", file=sys.stderr)
        return 2
    prog = unittest.main(argv=argv, exit=False, verbosity=2)
    r = prog.result
    failed = len(r.failures) + len(r.errors)
    print(f"{SERVER}: {r.testsRun - failed - len(r.skipped)} passed, {failed} failed, "
          f"{len(r.skipped)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
