# SPDX-License-Identifier: MIT
"""Starts wsbench's echo servers as real child processes for the tests.

Every server follows one contract: --port (0 = any free port), --host,
--max-message-size, a "READY ws://HOST:PORT/" line on stdout once it accepts
connections, and a clean exit 0 on SIGTERM.
"""

import os
import select
import signal
import socket
import subprocess
import sys
import time

SERVER_NAMES = ("c-lws", "go-gorilla", "rust-tungstenite", "node-ws", "dotnet-kestrel")


_ports_given = set()


def free_port():
    """A loopback TCP port free right now (for servers that need one named),
    and not one this process was given before: the kernel may hand the same
    ephemeral port to two binds in a row, and a configuration naming it twice
    is refused."""
    for _ in range(100):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port not in _ports_given:
            _ports_given.add(port)
            return port
    raise RuntimeError("no fresh loopback port after 100 tries")


def rss_bytes(pid):
    """Resident memory of process @pid, from /proc/PID/status."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid):
    """utime + stime of process @pid, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def build_dir():
    d = os.environ.get("WSBENCH_BUILD_DIR")
    if d:
        return d
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "..", "build")


def server_command(name):
    b = build_dir()
    if name == "fault":
        return [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "faultserver.py")]
    if name == "c-lws":
        return [os.path.join(b, "echo", "wsbench-echo")]
    if name in SERVER_NAMES:
        return [os.path.join(b, "servers", name)]
    if os.path.sep in name:
        return [name]
    raise ValueError(f"unknown server {name!r}; known: {', '.join(SERVER_NAMES)}")


def available_servers():
    return [n for n in SERVER_NAMES if os.access(server_command(n)[0], os.X_OK)]


class ServerProcess:
    """A running echo server; use as a context manager."""

    def __init__(self, name, args=(), ready_timeout=15.0, env=None):
        self.name = name
        self.argv = server_command(name) + ["--host", "127.0.0.1", "--port", "0"] + list(args)
        self.ready_timeout = ready_timeout
        self.env = env
        self.proc = None
        self.url = None
        self.port = None

    def start(self):
        # The fault server drops meson's MALLOC_PERTURB_ itself.
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=self.env)
        deadline = time.monotonic() + self.ready_timeout
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise RuntimeError(f"{self.name}: no READY line within {self.ready_timeout}s")
            r, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if not r:
                continue
            ch = os.read(self.proc.stdout.fileno(), 1)
            if not ch:
                err = self.proc.stderr.read().decode(errors="replace")
                raise RuntimeError(f"{self.name} exited before READY: {err.strip()}")
            line += ch
        text = line.decode().strip()
        if not text.startswith(("READY ws://", "READY wss://")):
            self.kill()
            raise RuntimeError(f"{self.name}: unexpected first line {text!r}")
        self.url = text.split(" ", 1)[1]
        self.port = int(self.url.rstrip("/").rsplit(":", 1)[1])
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Signals the server; returns (exit status, seconds taken)."""
        if self.proc is None:
            return None, 0.0
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        took = time.monotonic() - t0
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()
        return rc, took

    def stop_and_read(self, sig=signal.SIGTERM, timeout=10.0):
        """Signals the server and returns (exit status, what it printed after READY)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return self.proc.returncode, out.decode(errors="replace")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr) if self.proc else ():
            if f:
                f.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
