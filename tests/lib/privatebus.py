# SPDX-License-Identifier: MIT
"""A private dbus-daemon and a wsbenchd on it, for the daemon's tests.

The bus uses tests/dbus/bus.conf (anyone may own and call), or
tests/dbus/bus-users.conf (the same, and every user may connect); wsbenchd
runs from the build tree with WSBENCH_ECHO/WSBENCH_LOAD/WSBENCH_SERVERS_DIR
set, and wsbenchctl is pointed at the bus with --bus-address, as the test's
own user or as one of the throw-away users of TestUsers.
"""

import fcntl
import grp
import json
import os
import pwd
import resource
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
    def __init__(self, config="bus.conf"):
        self.config = config
        self.proc = None
        self.address = None

    def start(self):
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--config-file", os.path.join(SOURCE, "tests", "dbus", self.config),
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

    def __init__(self, bus, config, log_path, extra_env=None, nofile=None):
        self.bus = bus
        self.config = config
        self.log_path = log_path
        self.extra_env = extra_env or {}
        self.nofile = nofile  # RLIMIT_NOFILE (soft and hard), as LimitNOFILE= would set it
        self.proc = None

    def _limits(self):
        if self.nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def start(self, timeout=10):
        env = tool_env()
        env.update(self.extra_env)
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen([build("daemon", "wsbenchd"), "--config", self.config,
                                      "--bus-address", self.bus.address],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=self._limits)
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


class TestUsers:
    """Two throw-away accounts for the access tests: `member`, in group
    wsbench, and `other`, in no group of ours. Creating them needs root
    (useradd); the group is created too when the machine has none, and all
    of it is removed again. A lock file keeps two test processes from
    creating or removing the group under each other."""

    GROUP = "wsbench"
    LOCK = "/tmp/wsbench-test-users.lock"

    def __init__(self):
        tag = os.getpid() % 1000000
        self.member = f"wsbt-m{tag}"
        self.other = f"wsbt-o{tag}"
        self.created_group = False
        self.lock = None

    def create(self):
        self.lock = open(self.LOCK, "w")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        try:
            grp.getgrnam(self.GROUP)
        except KeyError:
            subprocess.run(["groupadd", "--system", self.GROUP], check=True)
            self.created_group = True
        for name, groups in ((self.member, ["--groups", self.GROUP]), (self.other, [])):
            subprocess.run(["useradd", "--system", "--no-create-home", "--user-group",
                            "--shell", "/usr/sbin/nologin"] + groups + [name], check=True)
        return self

    def remove(self):
        for name in (self.member, self.other):
            subprocess.run(["userdel", name], stderr=subprocess.DEVNULL)
        if self.created_group:
            subprocess.run(["groupdel", self.GROUP], stderr=subprocess.DEVNULL)
        if self.lock:
            self.lock.close()

    @staticmethod
    def uid(name):
        return pwd.getpwnam(name).pw_uid


def ctl(bus, *args, check=True, timeout=300, user=None):
    """wsbenchctl on @bus; as @user (its uid, primary and supplementary
    groups, as a login would set them) when given."""
    argv = [build("ctl", "wsbenchctl"), "--bus-address", bus.address] + list(args)
    if user:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"] + argv
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"wsbenchctl {' '.join(args)} exited {p.returncode}: {p.stderr}")
    return p


def ctl_json(bus, *args, **kw):
    p = ctl(bus, "--json", *args, **kw)
    return json.loads(p.stdout) if p.stdout.strip() else None
