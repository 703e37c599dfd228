#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fault tests: parts killed mid-run, a full or read-only report directory,
a broken reload during a run, peers that misbehave against wsbench-echo,
servers that misbehave against wsbench-load, and the bus under a 10,000-
client run. The daemon runs for real on a private dbus-daemon (the helpers
of test_daemon.py and tests/lib/privatebus.py, imported). What
test_daemon.py already covers is not repeated here; docs/reliability.md
lists both.

Every test prints its figures (memory, timings, counts) on stderr; with
WSBENCH_FAULTS_RECORD=FILE they are also written to FILE as JSON, for the
record. Needs root (tmpfs mounts) and about 3 minutes.
"""

import base64
import glob
import json
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import dbusmini  # noqa: E402
import servers  # noqa: E402
import test_daemon as td  # noqa: E402
import test_load as tl  # noqa: E402
import wsproto as ws  # noqa: E402
from privatebus import SOURCE, Daemon, PrivateBus, ctl, ctl_json  # noqa: E402

HOSTILE = os.path.join(SOURCE, "tests", "lib", "hostileserver.py")
MiB = 1 << 20
RECORD = {}


def record(test, **figures):
    RECORD.setdefault(test, {}).update(figures)
    print("\n  " + ", ".join(f"{k}: {v}" for k, v in figures.items()), file=sys.stderr)


def pids_of(program, arg):
    """Processes of @program (a path's basename) with @arg on their command line."""
    found = []
    for pid in td.Lifecycle.processes_with(arg):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                exe = os.path.basename(f.read().split(b"\0")[0])
        except OSError:
            continue
        if exe.decode() == program:
            found.append(int(pid))
    return found


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class DaemonTest(unittest.TestCase):
    """A wsbenchd of its own on a private bus for each test, with the test
    configuration of test_daemon.py and c-lws on a free port (the daemon
    tests use 9001 and may run beside these)."""

    report_mount = None  # "tmpfs": report_dir is a 64 KiB tmpfs

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wsbench-faults-")
        self.reports = os.path.join(self.tmp, "reports")
        os.mkdir(self.reports)
        if self.report_mount:
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs",
                            self.reports], check=True)
        self.port = td.free_port()
        self.config = os.path.join(self.tmp, "wsbench.conf")
        self.write_config(self.config_text())
        self.bus = PrivateBus().start()
        self.daemon = self.start_daemon()

    def tearDown(self):
        self.daemon.stop()
        self.bus.stop()
        if self.report_mount:
            subprocess.run(["umount", self.reports], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def config_text(self, extra_scenarios=""):
        return td.test_config(self.reports, extra_scenarios).replace(
            "port = 9001;", f"port = {self.port};", 1)

    def write_config(self, text):
        with open(self.config + ".new", "w") as f:
            f.write(text)
        os.replace(self.config + ".new", self.config)

    def start_daemon(self, nofile=None):
        return Daemon(self.bus, self.config, os.path.join(self.tmp, "wsbenchd.log"),
                      nofile=nofile).start()

    def start(self, scenario, *args):
        return ctl_json(self.bus, "start", scenario, *args)["id"]

    def status(self, run_id):
        return ctl_json(self.bus, "status", run_id)

    def wait(self, run_id, expect):
        p = ctl(self.bus, "--json", "wait", run_id, check=False)
        st = json.loads(p.stdout)
        self.assertEqual(st["State"], expect,
                         f"run {run_id}: {p.stdout}\n{self.daemon.read_log()[-3000:]}")
        return st

    def wait_state(self, run_id, states, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.status(run_id)
            if st["State"] in states:
                return st
            time.sleep(0.05)
        self.fail(f"run {run_id} never reached {states}: {st}\n{self.daemon.read_log()[-3000:]}")

    def wait_counting(self, run_id, received=1):
        """Until the run is running and @received echoes are counted."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            st = self.status(run_id)
            if st["State"] == "running" and st["MessagesReceived"] >= received:
                return st
            time.sleep(0.1)
        self.fail(f"run {run_id} counts nothing: {st}")

    def echo_pids(self):
        return pids_of("wsbench-echo", f"--port={self.port}")

    def load_pids(self):
        return pids_of("wsbench-load", f"--url=ws://127.0.0.1:{self.port}/")

    def assert_children_gone(self):
        deadline = time.monotonic() + 10
        while (self.echo_pids() or self.load_pids()) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.echo_pids() + self.load_pids(), [], "a child outlived its run")

    def assert_serves_next_run(self):
        run_id = self.start("single", *td.SHORT)
        self.wait(run_id, "finished")
        self.assertEqual(ctl_json(self.bus, "report", run_id)["metadata"]["state"], "finished")
        return run_id


class ChildKilled(DaemonTest):
    """SIGKILL to the echo server or to wsbench-load in the middle of a run.
    (test_daemon.py Failures covers a server that exits by itself.)"""

    def kill_mid_run(self, pids_fn):
        run_id = self.start("burst-100", "--set", "duration=20", "--set", "warmup=0")
        before = self.wait_counting(run_id, received=300)
        pids = pids_fn()
        self.assertEqual(len(pids), 1, pids)
        t0 = time.monotonic()
        os.kill(pids[0], signal.SIGKILL)
        st = self.wait(run_id, "failed")
        took = time.monotonic() - t0
        rep = ctl_json(self.bus, "report", run_id)
        self.assertEqual(rep["metadata"]["state"], "failed")
        self.assertEqual(rep["metadata"]["failure_reason"], st["FailureReason"])
        self.assert_children_gone()
        return run_id, st, rep, before, took

    def test_echo_server_sigkilled(self):
        run_id, st, rep, before, took = self.kill_mid_run(self.echo_pids)
        self.assertRegex(st["FailureReason"],
                         r"server c-lws (exited with status 137|was killed by signal 9|"
                         r"killed by SIGKILL).* during the run")
        # What was measured until then is in the report.
        m = rep["errors"]["messages"]
        self.assertGreaterEqual(m["received"], before["MessagesReceived"])
        self.assertEqual(rep["errors"]["connections"]["established"], 100)
        self.assertEqual(rep["errors"]["connections"]["dropped"], 100)
        self.assertGreater(rep["latency"]["corrected"]["count"], 0)
        self.assertGreater(len(rep["resourceUsage"]["server"]), 0)
        record("echo server SIGKILLed mid-run", reason=st["FailureReason"],
               received_in_report=m["received"], failed_after_s=round(took, 2))
        self.assert_serves_next_run()

    def test_load_generator_sigkilled(self):
        run_id, st, rep, before, took = self.kill_mid_run(self.load_pids)
        self.assertRegex(st["FailureReason"],
                         r"wsbench-load (exited with status 137|was killed by signal 9|"
                         r"killed by SIGKILL)")
        # The load generator's result died with it: the report keeps what
        # the daemon measured itself (the server's and the client's samples).
        self.assertGreater(len(rep["resourceUsage"]["server"]), 0)
        self.assertGreater(len(rep["resourceUsage"]["client"]), 0)
        record("wsbench-load SIGKILLed mid-run", reason=st["FailureReason"],
               report_errors=rep.get("errors"), report_latency=rep.get("latency"),
               timeline_entries=len(rep.get("timeline") or []),
               received_before_kill=before["MessagesReceived"], failed_after_s=round(took, 2))
        self.assert_serves_next_run()

    def test_load_generator_sigkilled_report_keeps_its_counts(self):
        """wsbench-load's counts reach the daemon every second (progress
        lines: connected, sent, received, p99, errors); killed without a
        result, the report keeps the last progress counts and the per-second
        lines, marked partial (latency percentiles exist only in the result)."""
        run_id, st, rep, before, took = self.kill_mid_run(self.load_pids)
        errors = rep.get("errors") or {}
        m = errors.get("messages") or {}
        self.assertIn("partial", errors)
        self.assertGreaterEqual(m.get("received", 0), before["MessagesReceived"])
        self.assertGreater(len(rep.get("timeline") or []), 0)
        self.assertEqual(sum(e["received"] for e in rep["timeline"]), m["received"])


class Shutdown(DaemonTest):
    """SIGTERM to wsbenchd during a run, then a restart.
    (test_daemon.py Lifecycle.test_sigterm_cancels_and_writes_the_report
    checks the cancelled report's counts and that no child is left.)"""

    def test_sigterm_mid_run_then_restart_lists_the_runs(self):
        first = self.assert_serves_next_run()
        run_id = self.start("burst-100", "--set", "duration=20", "--set", "warmup=0")
        self.wait_counting(run_id, received=100)
        t0 = time.monotonic()
        self.assertEqual(self.daemon.stop(), 0)
        took = time.monotonic() - t0
        self.assert_children_gone()
        files = sorted(glob.glob(os.path.join(self.reports, "*.json")))
        self.assertEqual(len(files), 2, files)
        self.assertEqual(glob.glob(os.path.join(self.reports, ".tmp-*")), [])
        with open(files[-1] if "burst-100" in files[-1] else files[0]) as f:
            cancelled = json.load(f)  # whole: written atomically
        self.assertEqual(cancelled["metadata"]["id"], run_id)
        self.assertEqual(cancelled["metadata"]["state"], "cancelled")
        # Restarted, it lists both from report_dir and serves their reports.
        self.daemon = self.start_daemon()
        runs = {r["id"]: r["state"] for r in ctl_json(self.bus, "runs")}
        self.assertEqual(runs.get(first), "finished")
        self.assertEqual(runs.get(run_id), "cancelled")
        self.assertEqual(ctl_json(self.bus, "report", run_id), cancelled)
        self.assertEqual(self.status(run_id)["State"], "cancelled")
        record("wsbenchd SIGTERMed mid-run", stopped_after_s=round(took, 2),
               listed_after_restart=len(runs))
        self.assert_serves_next_run()


class ReportDirFull(DaemonTest):
    """report_dir on a 64 KiB tmpfs that fills up, then is remounted
    read-only. (test_daemon.py ReportWriteFailure covers a report_dir that
    is replaced by a file.)"""

    report_mount = "tmpfs"

    def files(self):
        return sorted(os.listdir(self.reports))

    def test_full_then_read_only(self):
        # Fill it to the last byte.
        filler = os.path.join(self.reports, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            while True:
                os.write(fd, b"\0" * 512)
        except OSError:
            pass
        finally:
            os.close(fd)
        before = self.files()
        run_id = self.start("single", *td.SHORT)
        st = self.wait(run_id, "failed")
        self.assertIn(f"cannot write the report to {self.reports}", st["FailureReason"])
        self.assertIn("No space left on device", st["FailureReason"])
        self.assertEqual(st["ReportPath"], "")
        self.assertEqual(self.files(), before, "a partial file was left")
        full_reason = st["FailureReason"]
        os.unlink(filler)
        self.assert_serves_next_run()

        # Read-only: refused the same way, and nothing changes on disk.
        subprocess.run(["mount", "-o", "remount,ro", self.reports], check=True)
        try:
            before = self.files()
            run_id = self.start("single", *td.SHORT)
            st = self.wait(run_id, "failed")
            self.assertIn("Read-only file system", st["FailureReason"])
            self.assertEqual(self.files(), before)
        finally:
            subprocess.run(["mount", "-o", "remount,rw", self.reports], check=True)
        # The index beside the reports is whole (one JSON object a line).
        with open(os.path.join(self.reports, ".index.jsonl")) as f:
            for line in f:
                json.loads(line)
        record("report_dir full, then read-only", full=full_reason, read_only=st["FailureReason"])
        self.assert_serves_next_run()


class ReloadDuringRun(DaemonTest):
    """A broken file reloaded (D-Bus Reload and SIGHUP) while a run goes on.
    (test_daemon.py Reload covers bad reloads between runs and a good one
    during a run.)"""

    def test_broken_reload_during_run_is_refused(self):
        with open(self.config) as f:
            good = f.read()
        run_id = self.start("burst-100", "--set", "duration=4", "--set", "warmup=0")
        self.wait_counting(run_id)
        broken = good.replace("clients = 100; ramp_up = 0.0;", "clients = 0; ramp_up = 0.0;")
        broken = broken.replace("servers = (", "servers = ( oops", 1)
        self.write_config(broken)
        p = ctl(self.bus, "reload", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, rf"{self.config}:\d+: ")
        self.assertIn("previous one stays in force", p.stderr)
        self.daemon.proc.send_signal(signal.SIGHUP)
        self.assertEqual(self.status(run_id)["State"], "running")
        st = self.wait(run_id, "finished")
        rep = ctl_json(self.bus, "report", run_id)
        self.assertEqual(rep["clientConfig"]["clients"], 100)
        self.assertEqual(rep["errors"]["connections"]["established"], 100)
        self.assertEqual(rep["errors"]["messages"]["lost"], 0)
        self.assertEqual(ctl_json(self.bus, "status")["config"], self.config)
        self.assertIn("burst-100", [s["name"] for s in ctl_json(self.bus, "list-scenarios")])
        self.assertIn("SIGHUP", self.daemon.read_log())
        record("broken reload during a run", refused=p.stderr.strip().splitlines()[-1],
               run=st["State"])
        self.write_config(good)
        self.assert_serves_next_run()


class EchoPeers(unittest.TestCase):
    """Peers that misbehave against wsbench-echo, by the thousand; after each
    the server still answers a well-behaved client at once. (One of each is
    in the conformance suite: X.2.x oversize frames, X.3.x bad handshakes;
    test_servers.py has one slow reader.)"""

    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        cls.srv = servers.ServerProcess("c-lws", ["--handshake-timeout", "2",
                                                  "--max-message-size", "1M"]).start()
        cls.host, cls.port = "127.0.0.1", cls.srv.port
        time.sleep(0.2)
        cls.base_fds = fd_count(cls.srv.proc.pid)
        cls.base_rss = servers.rss_bytes(cls.srv.proc.pid)

    @classmethod
    def tearDownClass(cls):
        rc, took = cls.srv.stop()
        record("wsbench-echo after every hostile peer", exit_status=rc,
               rss_mib=round(cls.last_rss / MiB, 1))
        assert rc == 0, f"wsbench-echo exited {rc} on SIGTERM"

    def tearDown(self):
        type(self).last_rss = servers.rss_bytes(self.srv.proc.pid)

    def sock(self):
        s = socket.create_connection((self.host, self.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def assert_serves(self):
        """A fresh client's handshake and echo round trip, in ms. (Plain
        blocking socket calls: wsproto's select() stops at descriptor 1024,
        and some tests hold thousands.)"""
        self.assertTrue(self.srv.alive(), "wsbench-echo died")
        t0 = time.monotonic()
        s = self.sock()
        try:
            s.sendall(self.handshake_bytes())
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(4096)
                self.assertTrue(chunk, "closed during the handshake")
                buf += chunk
            self.assertIn(b" 101 ", buf.split(b"\r\n")[0])
            s.sendall(ws.encode_frame(ws.OP_TEXT, b"still here"))
            rest = buf.split(b"\r\n\r\n", 1)[1]
            while len(rest) < 12:
                chunk = s.recv(4096)
                self.assertTrue(chunk, "closed before the echo")
                rest += chunk
            self.assertEqual(rest[:12], b"\x81\x0astill here")
        finally:
            s.close()
        return round((time.monotonic() - t0) * 1000, 1)

    def wait_closed(self, socks, timeout):
        """Seconds until the server has closed every one of @socks."""
        t0 = time.monotonic()
        open_ = list(socks)
        while open_ and time.monotonic() - t0 < timeout:
            still = []
            for s in open_:
                s.setblocking(False)
                try:
                    while True:
                        data = s.recv(65536)
                        if not data:
                            break
                    else:
                        pass
                except BlockingIOError:
                    still.append(s)
                    continue
                except OSError:
                    pass
            open_ = still
            if open_:
                time.sleep(0.1)
        for s in socks:
            s.close()
        self.assertEqual(len(open_), 0, f"{len(open_)} of {len(socks)} never closed by the server")
        return round(time.monotonic() - t0, 1)

    def wait_fds_back(self, slack=8, timeout=10):
        deadline = time.monotonic() + timeout
        while fd_count(self.srv.proc.pid) > self.base_fds + slack and time.monotonic() < deadline:
            time.sleep(0.1)
        n = fd_count(self.srv.proc.pid)
        self.assertLessEqual(n, self.base_fds + slack, "descriptors leaked")
        return n

    def handshake_bytes(self):
        key = base64.b64encode(os.urandom(16)).decode()
        return (f"GET / HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n").encode()

    def upgraded(self):
        s = self.sock()
        s.sendall(self.handshake_bytes())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            self.assertTrue(chunk, "closed during the handshake")
            head += chunk
        self.assertIn(b" 101 ", head.split(b"\r\n")[0])
        return s

    def test_handshakes_that_never_finish(self):
        """500 slowloris clients: a request line, then a header line every
        0.5 s, never the blank line. Each is closed once --handshake-timeout
        (2 s) has passed; meanwhile real clients are served."""
        socks = [self.sock() for _ in range(500)]
        for s in socks:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        served = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 1.5:
            for s in socks:
                try:
                    s.send(b"X-Slow: 1\r\n")
                except OSError:
                    pass
            served.append(self.assert_serves())
            time.sleep(0.5)
        closed_in = self.wait_closed(socks, timeout=30) + round(time.monotonic() - t0, 1)
        fds = self.wait_fds_back()
        # 2 s, and lws checks its timeouts once a second.
        self.assertLessEqual(closed_in, 6, "--handshake-timeout 2 not honoured")
        record("500 slowloris handshakes", closed_within_s=closed_in,
               echo_ms_meanwhile_max=max(served), server_fds_after=fds)

    def test_thousands_of_half_open_connections(self):
        """3,000 connections that never send a byte and 1,000 that send
        their upgrade and then shut their side (FIN) without a word more."""
        silent = [self.sock() for _ in range(3000)]
        halfclosed = []
        for _ in range(1000):
            s = self.sock()
            s.sendall(self.handshake_bytes())
            s.shutdown(socket.SHUT_WR)
            halfclosed.append(s)
        fds_peak = fd_count(self.srv.proc.pid)
        rss_peak = servers.rss_bytes(self.srv.proc.pid)
        echo_ms = self.assert_serves()
        closed_fin = self.wait_closed(halfclosed, timeout=10)
        closed_silent = self.wait_closed(silent, timeout=40)
        fds = self.wait_fds_back()
        self.assertLessEqual(closed_silent, 6, "--handshake-timeout 2 not honoured")
        record("3,000 silent and 1,000 half-closed connections", server_fds_peak=fds_peak,
               server_rss_peak_mib=round(rss_peak / MiB, 1), echo_ms_meanwhile=echo_ms,
               half_closed_gone_s=closed_fin, silent_gone_s=closed_silent,
               server_fds_after=fds)

    def test_oversize_frames(self):
        """200 connections each announce a frame above --max-message-size
        (1M): 2^63 (top bit set: invalid), 2^63 - 1, 16 MiB and 1 MiB + 1,
        and send 1 KiB of it. Each is failed at its header (1002 or the end
        of TCP for the invalid length, 1009 for the others), and nothing is
        allocated for the sizes announced."""
        lengths = [1 << 63, (1 << 63) - 1, 16 * MiB, MiB + 1]
        conns, codes = [], {}
        before = servers.rss_bytes(self.srv.proc.pid)
        t0 = time.monotonic()
        for i in range(200):
            c = ws.Conn(self.srv.url, timeout=10)
            c.handshake()
            head = struct.pack("!BBQ", 0x82, 0x80 | 127, lengths[i % 4]) + b"\x01\x02\x03\x04"
            c.sock.sendall(head + b"\0" * 1024)
            conns.append(c)
        for c in conns:
            ev = c.next_event(5)
            key = "no answer" if ev is None else ev[1] if ev[0] == "close" else ev[0]
            codes[key] = codes.get(key, 0) + 1
            c.close()
        took = time.monotonic() - t0
        grown = servers.rss_bytes(self.srv.proc.pid) - before
        self.assertLess(grown, 16 * MiB, "memory for announced sizes")
        self.assertEqual(codes.get(1009), 150, codes)
        self.assertEqual(sum(codes.get(k, 0) for k in (1002, "eof", "reset")), 50, codes)
        echo_ms = self.assert_serves()
        self.wait_fds_back()
        record("200 oversize frames", outcomes=codes, rss_growth_mib=round(grown / MiB, 1),
               all_answered_s=round(took, 2), echo_ms_after=echo_ms)

    def test_clients_that_never_read(self):
        """20 clients send 64 KiB messages and never read an echo: the server
        stops reading from each (rx flow control) and its memory stays
        bounded; a reading client is served meanwhile."""
        before = servers.rss_bytes(self.srv.proc.pid)
        frame = ws.encode_frame(ws.OP_BINARY, b"\xab" * 65536)
        conns, accepted = [], 0
        for _ in range(20):
            c = ws.Conn(self.srv.url, timeout=10)
            c.handshake()
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            conns.append(c)
        for c in conns:
            c.sock.settimeout(1.0)
            try:
                for _ in range(4096):
                    c.sock.sendall(frame)
                    accepted += len(frame)
            except (socket.timeout, OSError):
                pass
        peak = servers.rss_bytes(self.srv.proc.pid) - before
        echo_ms = self.assert_serves()
        for c in conns:
            c.close()
        # Per connection: one message being reassembled plus 1 MiB of queued
        # echoes (architecture.md), and lws's buffers. AddressSanitizer keeps
        # freed memory in quarantine (256 MiB by default): more room there.
        bound = 20 * 4 * MiB * (4 if os.environ.get("WSBENCH_SANITIZED") else 1)
        self.assertLess(peak, bound, f"RSS grew {peak / MiB:.1f} MiB")
        self.assertLess(accepted, 20 * 64 * MiB, "kept reading from clients that never read")
        self.wait_fds_back()
        record("20 clients that never read", accepted_mib=round(accepted / MiB, 1),
               rss_growth_mib=round(peak / MiB, 1), echo_ms_meanwhile=echo_ms)

    def test_random_bytes(self):
        """300 connections of random bytes (a fixed seed): 100 instead of a
        handshake, 100 after one, 100 after one as frame-shaped noise (a
        masked header with random opcode, RSV bits and length, then random
        payload). Each is closed; the server serves on."""
        rnd = random.Random(14)
        socks = []
        for i in range(300):
            s = self.sock() if i < 100 else self.upgraded()
            if i < 200:
                data = rnd.randbytes(4096)
            else:
                data = b"".join(bytes([rnd.getrandbits(8), 0x80 | rnd.randrange(126)]) +
                                rnd.randbytes(4) + rnd.randbytes(rnd.randrange(126))
                                for _ in range(40))
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)  # what follows the noise: end of stream
            except OSError:
                pass  # closed already
            socks.append(s)
        closed_in = self.wait_closed(socks, timeout=15)
        fds = self.wait_fds_back()
        echo_ms = self.assert_serves()
        record("300 connections of random bytes", closed_within_s=closed_in,
               server_fds_after=fds, echo_ms_after=echo_ms)


class HostileServers(unittest.TestCase):
    """Servers that misbehave against wsbench-load (tests/lib/hostileserver.py):
    5 clients, each served 2 good echoes, then the fault. Every run ends on
    time (no hang), exits 3 (errors counted), and counts exactly.
    (test_load.py Failures covers refused, rejected, silent and dying servers.)"""

    CLIENTS, RATE, DURATION, DRAIN = 5, 20, 1, 1

    def run_against(self, mode):
        srv = servers.ServerProcess(HOSTILE, ["--mode", mode, "--after", "3"]).start()
        t0 = time.monotonic()
        rc, r, err = tl.run_load(srv.url, "--clients", self.CLIENTS, "--rate", self.RATE,
                                 "--duration", self.DURATION, "--drain-timeout", self.DRAIN,
                                 "--retries", 0, timeout=60)
        took = time.monotonic() - t0
        _, out = srv.stop_and_read()
        counts = json.loads(out.strip().splitlines()[-1])
        self.assertIsNotNone(r, err)
        self.assertEqual(rc, 3, err)
        # Duration + drain + the 2 s wait for the server's Close, and slack.
        self.assertLess(took, self.DURATION + self.DRAIN + 2 + 5, "wsbench-load hung")
        c, m = tl.connections(r), tl.messages(r)
        self.assertEqual(c["established"], self.CLIENTS)
        self.assertEqual(counts["hostile"], self.CLIENTS)
        self.assertEqual(m["received"], 2 * self.CLIENTS)
        self.assertEqual(m["received"], counts["echoed"])
        self.assertEqual(m["corrupted"], 0)
        self.assertEqual(m["sent"], m["received"] + m["lost"] + m["corrupted"])
        record(f"hostile server: {mode}", exit_status=rc, seconds=round(took, 1),
               dropped=c["dropped"], closed_by_peer=c.get("closed_by_peer", {}),
               lost=m["lost"], not_sent=m["not_sent"])
        return c, m

    def test_failing_the_connection(self):
        """Each of these breaks the protocol or the stream: the connection is
        failed (1002) or lost, counted dropped, and nothing more is sent."""
        for mode in ("close-mid-frame", "reset", "masked", "length-2-63", "garbage",
                     "control-126"):
            with self.subTest(mode=mode):
                c, m = self.run_against(mode)
                self.assertEqual(c["dropped"], self.CLIENTS)
                self.assertEqual(m["lost"], self.CLIENTS)  # the message in flight
                self.assertGreater(m["not_sent"], 0)

    def test_server_close(self):
        c, m = self.run_against("close-1011")
        self.assertEqual(c["closed_by_peer"], {"1011": self.CLIENTS})
        self.assertEqual(c["dropped"], self.CLIENTS)

    def test_stalls(self):
        """A server that stops answering, or starts a frame of 2^63 - 1 bytes
        and stalls in it: every message from then on is lost, the run ends
        at its drain timeout."""
        for mode in ("stall", "length-max"):
            with self.subTest(mode=mode):
                c, m = self.run_against(mode)
                self.assertEqual(c["dropped"], 0)
                self.assertEqual(m["not_sent"], 0)
                self.assertEqual(m["lost"], m["sent"] - 2 * self.CLIENTS)


class BusUnderLoad(DaemonTest):
    """Status calls while 10,000 clients run. The target is 10 ms at p99
    (reliability-anchors: control plane); the assertion allows 100 ms, since
    this 2-core machine runs the 10,000 clients, the echo server, the daemon
    and other builds and tests at once; the figures are printed and
    recorded."""

    def start_daemon(self, nofile=None):
        # Room for 10,000 connections in each of wsbench-load and the server.
        return super().start_daemon(nofile=20000)

    def test_status_calls_during_a_10000_client_run(self):
        run_id = self.start("steady-1000", "--set", "clients=10000", "--set", "ramp_up=5",
                            "--set", "rate=1", "--set", "duration=15", "--set", "warmup=0",
                            "--set", "drain_timeout=5")
        self.wait_state(run_id, {"running"}, timeout=120)
        bus = dbusmini.Bus(self.bus.address)
        raw, ctl_ms, connected = [], [], 0
        deadline = time.monotonic() + 10
        path = f"/org/wsbench1/run/{run_id}"
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            mtype, error, _ = bus.call("org.wsbench1", "/org/wsbench1",
                                       "org.freedesktop.DBus.Properties", "GetAll",
                                       "org.wsbench1.Manager")
            t1 = time.perf_counter()
            self.assertEqual(mtype, 2, error)
            mtype2, error2, _ = bus.call("org.wsbench1", path, "org.freedesktop.DBus.Properties",
                                         "GetAll", "org.wsbench1.Run")
            t2 = time.perf_counter()
            raw.append((t1 - t0) * 1000)
            if mtype2 == 2:
                raw.append((t2 - t1) * 1000)
            if len(ctl_ms) < 100:
                t3 = time.perf_counter()
                st = ctl_json(self.bus, "status", run_id)
                ctl_ms.append((time.perf_counter() - t3) * 1000)
                connected = max(connected, st.get("ClientsConnected", 0))
            time.sleep(0.02)
        bus.close()
        st = self.wait(run_id, "finished")
        rep = ctl_json(self.bus, "report", run_id)

        def pct(xs, p):
            xs = sorted(xs)
            return round(xs[min(len(xs) - 1, int(p / 100 * len(xs)))], 2)

        figures = {"calls": len(raw), "dbus_p50_ms": pct(raw, 50), "dbus_p99_ms": pct(raw, 99),
                   "dbus_max_ms": round(max(raw), 2), "wsbenchctl_status_calls": len(ctl_ms),
                   "wsbenchctl_p50_ms": pct(ctl_ms, 50), "wsbenchctl_p99_ms": pct(ctl_ms, 99),
                   "clients_connected": rep["errors"]["connections"]["established"],
                   "messages_received": rep["errors"]["messages"]["received"]}
        record("bus during a 10,000-client run", **figures)
        self.assertEqual(rep["errors"]["connections"]["established"], 10000)
        self.assertLessEqual(figures["dbus_p99_ms"], 100)


def main():
    if os.geteuid() != 0:
        print("test_faults.py: needs root (tmpfs mounts); skipped", file=sys.stderr)
        return 77
    prog = unittest.main(exit=False, verbosity=2)
    res = prog.result
    out = os.environ.get("WSBENCH_FAULTS_RECORD")
    if out:
        with open(out, "w") as f:
            json.dump(RECORD, f, indent=1)
    # A known fault that no longer fails was fixed: say so (drop the marker).
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    print(f"faults: {res.testsRun - failed - len(res.skipped) - len(res.expectedFailures)} "
          f"passed, {failed} failed, {len(res.expectedFailures)} known faults open")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
