# SPDX-License-Identifier: MIT
"""A private dbus-daemon and a wsbenchd on it, for the daemon's tests.

The bus uses tests/dbus/bus.conf (anyone may own and call); wsbenchd runs
from the build tree with WSBENCH_ECHO/WSBENCH_LOAD/WSBENCH_SERVERS_DIR set,
and wsbenchctl is pointed at the bus with --bus-address.
"""

import json
import os
import signal
import subprocess
import sys
import time

import servers

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))


def build(*parts):
    return os.path.join(servers.build_dir(), *parts)


class PrivateBus:
    def __init__(self):
        self.proc = None
        self.address = None

    def start(self):
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--config-file", os.path.join(SOURCE, "tests", "dbus", "bus.conf"),
             "--nofork", "--print-address=1"], stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True)
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            raise RuntimeError("dbus-daemon did not start")
        return self

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc.stdout.close()


def tool_env():
    env = dict(os.environ)
    env["WSBENCH_ECHO"] = build("echo", "wsbench-echo")
    env["WSBENCH_LOAD"] = build("load", "wsbench-load")
    env["WSBENCH_SERVERS_DIR"] = build("servers")
    return env


class Daemon:
    """wsbenchd on a private bus, its stderr collected in a log file."""

    def __init__(self, bus, config, log_path, extra_env=None):
        self.bus = bus
        self.config = config
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.proc = None

    def start(self, timeout=10):
        env = tool_env()
        env.update(self.extra_env)
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([build("daemon", "wsbenchd"), "--config", self.config,
                                      "--bus-address", self.bus.address],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"wsbenchd exited with {self.proc.returncode}: {self.read_log()}")
            if ctl(self.bus, "status", check=False).returncode == 0:
                return self
            time.sleep(0.1)
        raise RuntimeError("wsbenchd did not come up")

    def read_log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and not self.log.closed:
            self.log.close()
        return self.proc.returncode if self.proc else None


def ctl(bus, *args, check=True, timeout=300):
    p = subprocess.run([build("ctl", "wsbenchctl"), "--bus-address", bus.address] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"wsbenchctl {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


def ctl_json(bus, *args, **kw):
    p = ctl(bus, "--json", *args, **kw)
    return json.loads(p.stdout) if p.stdout.strip() else None
