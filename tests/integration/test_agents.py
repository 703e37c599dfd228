#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Distributed runs: a coordinator wsbenchd spreads a scenario's load over
agents, each a separate wsbenchd on its own private bus, one of them reached
through a real sshd on loopback (a throwaway key; ssh then runs
systemd-stdio-bridge to the agent's bus, as `systemctl -H` does to a
system bus). The merged report is checked against a counting server, the
clock check against an agent whose clock is off, and an agent that dies
fails the run and cancels the other part."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import servers  # noqa: E402
from privatebus import SOURCE, Daemon, ctl, ctl_json  # noqa: E402

FAULT = os.path.join(SOURCE, "tests", "lib", "faultserver.py")
SSHD = "/usr/sbin/sshd"


class SocketBus:
    """A private dbus-daemon listening on a socket path we choose: an
    address without a guid, which an ssh command line can name."""

    def __init__(self, path):
        self.path = path
        self.address = f"unix:path={path}"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--config-file", os.path.join(SOURCE, "tests", "dbus", "bus.conf"),
             "--nofork", f"--address={self.address}", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if not self.proc.stdout.readline().strip():
            raise RuntimeError("dbus-daemon did not start")
        return self

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc.stdout.close()


def dbus_escape(s):
    """A D-Bus address value: bytes outside [-0-9A-Za-z_/.*] as %XX."""
    ok = set("-_/.*0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return "".join(c if c in ok else "%%%02x" % ord(c) for c in s)


class Sshd:
    """sshd on 127.0.0.1 with a throwaway host key and user key; root may
    log in with the key only."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "ssh")
        self.port = servers.free_port()
        self.proc = None

    def start(self):
        os.makedirs(self.dir, mode=0o700)
        os.makedirs("/run/sshd", exist_ok=True)
        for name in ("host", "user"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                            os.path.join(self.dir, name)], check=True)
        shutil.copy(os.path.join(self.dir, "user.pub"), os.path.join(self.dir, "authorized"))
        with open(os.path.join(self.dir, "sshd_config"), "w") as f:
            f.write(f"""ListenAddress 127.0.0.1
Port {self.port}
HostKey {self.dir}/host
AuthorizedKeysFile {self.dir}/authorized
PidFile none
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel ERROR
""")
        with open(os.path.join(self.dir, "ssh_config"), "w") as f:
            f.write(f"""Host agent-over-ssh
  HostName 127.0.0.1
  Port {self.port}
  User root
  IdentityFile {self.dir}/user
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  BatchMode yes
  LogLevel ERROR
""")
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f",
                                      os.path.join(self.dir, "sshd_config")],
                                     stderr=open(os.path.join(self.dir, "sshd.log"), "w"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not come up")

    def address_of(self, bus):
        """The agent spec: ssh runs systemd-stdio-bridge to @bus on the
        "remote" side, exactly as sd_bus_open_system_remote() runs it to a
        system bus."""
        argv = ["-F", os.path.join(self.dir, "ssh_config"), "-xT", "--", "agent-over-ssh",
                "systemd-stdio-bridge", f"--bus-path={bus.address}"]
        return "unixexec:path=" + dbus_escape(shutil.which("ssh")) + "".join(
            f",argv{i + 1}={dbus_escape(a)}" for i, a in enumerate(argv))

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(5)


@unittest.skipUnless(os.path.exists(SSHD) and os.geteuid() == 0, "needs root and sshd")
class AgentsCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wsbench-agents-")
        cls.sshd = Sshd(cls.tmp).start()
        cls.buses, cls.agents = {}, {}
        for name, env in (("a1", {}), ("a2", {}), ("a3", {}),
                          ("skewed", {"WSBENCH_TEST_CLOCK_OFFSET_MS": "500"})):
            cls.start_agent(name, env)
        cls.bus = SocketBus(os.path.join(cls.tmp, "coordinator.sock")).start()
        a1, a2, a3 = (cls.buses[n].address for n in ("a1", "a2", "a3"))
        ssh_a2 = cls.sshd.address_of(cls.buses["a2"])
        skewed = cls.buses["skewed"].address
        cls.counting_port = servers.free_port()
        cls.config = os.path.join(cls.tmp, "coordinator.conf")
        with open(cls.config, "w") as f:
            f.write(f'''daemon: {{ report_dir = "{cls.tmp}/reports"; max_clock_skew_ms = 50; }};
servers = (
  {{ name = "c-lws"; language = "c"; builtin = true; port = {servers.free_port()}; }},
  {{ name = "counting"; language = "python"; port = {cls.counting_port};
    command = ["{sys.executable}", "{FAULT}", "--port", "{{port}}"]; }}
);
scenarios = (
  {{ name = "spread"; clients = 60; rate = 20.0; duration = 3.0; warmup = 0.5;
    agents = [ "{a1}", "{a2}*2" ]; }},
  {{ name = "via-ssh"; clients = 20; rate = 10.0; duration = 2.0; warmup = 0.5;
    agents = [ "{a1}", "{ssh_a2}" ]; }},
  {{ name = "skewed"; clients = 4; rate = 1.0; duration = 2.0; agents = [ "{a1}", "{skewed}" ]; }},
  {{ name = "long"; clients = 10; rate = 10.0; duration = 60.0; agents = [ "{a1}", "{a3}" ]; }}
);
''')
        cls.daemon = Daemon(cls.bus, cls.config, os.path.join(cls.tmp, "coordinator.log")).start()

    @classmethod
    def start_agent(cls, name, env):
        bus = SocketBus(os.path.join(cls.tmp, f"{name}.sock")).start()
        conf = os.path.join(cls.tmp, f"{name}.conf")
        with open(conf, "w") as f:
            f.write(f'''daemon: {{ report_dir = "{cls.tmp}/{name}-reports"; }};
servers = ( {{ name = "c-lws"; language = "c"; builtin = true; port = {servers.free_port()}; }} );
scenarios = ( {{ name = "idle"; clients = 1; rate = 1.0; duration = 1.0; }} );
''')
        cls.buses[name] = bus
        cls.agents[name] = Daemon(bus, conf, os.path.join(cls.tmp, f"{name}.log"),
                                  extra_env=env).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        for d in cls.agents.values():
            d.stop()
        for b in list(cls.buses.values()) + [cls.bus]:
            b.stop()
        cls.sshd.stop()

    def run_scenario(self, scenario, *args):
        run_id = ctl(self.bus, "start", scenario, *args).stdout.split()[0]
        ctl(self.bus, "wait", run_id, check=False, timeout=120)
        return run_id, ctl_json(self.bus, "report", run_id)

    def server_counts(self, run_id):
        pattern = re.compile(rf"run {run_id}: counting: (\{{.*\}})")
        for _ in range(50):
            m = pattern.findall(self.daemon.read_log())
            if m:
                return json.loads(m[-1])
            time.sleep(0.1)
        self.fail("no counts from the counting server")

    def agent_report(self, name, run_id):
        return ctl_json(self.buses[name], "report", run_id)

    def test_merged_report_matches_counting_server(self):
        run_id, rep = self.run_scenario("spread", "--server", "counting")
        self.assertEqual(rep["metadata"]["state"], "finished", rep["metadata"])
        counts = self.server_counts(run_id)
        m = rep["errors"]["messages"]
        # What the agents sent all arrived, and every echo came back.
        self.assertEqual(m["sent"], counts["received"])
        self.assertEqual(m["received"], counts["echoed"])
        self.assertEqual(m["lost"], 0)
        self.assertEqual(rep["errors"]["connections"]["established"], 60)
        self.assertEqual(counts["connections"], 60)
        # 60 clients x 20/s x (0.5 + 3) s, split 20/40 by weight 1:2.
        self.assertEqual(m["sent"], 60 * 20 * 3.5)
        parts = rep["agents"]
        self.assertEqual([p["clients"] for p in parts], [20, 40])
        self.assertEqual(sum(p["throughput"]["messages_sent"] for p in parts), m["sent"])
        # Lossless: the merged histogram holds every agent's latencies.
        self.assertEqual(rep["latency"]["corrected"]["count"],
                         sum(p["latency"]["corrected"]["count"] for p in parts))
        worst = max(p["latency"]["corrected"]["p99"] for p in parts)
        best = min(p["latency"]["corrected"]["p99"] for p in parts)
        self.assertTrue(best - 0.01 <= rep["latency"]["corrected"]["p99"] <= worst + 0.01)
        for p, name in zip(parts, ("a1", "a2")):
            self.assertLess(abs(p["clock_offset_ms"]), 5)
            self.assertEqual(p["state"], "finished")
            own = self.agent_report(name, p["run"])
            self.assertEqual(own["errors"]["messages"]["sent"],
                             p["throughput"]["messages_sent"])
            self.assertEqual(own["metadata"]["requested_by"]["user"], "root")
        self.assertIn("agents", rep["clientConfig"])

    def test_agent_over_ssh(self):
        run_id, rep = self.run_scenario("via-ssh")
        self.assertEqual(rep["metadata"]["state"], "finished",
                         rep["metadata"].get("failure_reason"))
        m = rep["errors"]["messages"]
        self.assertEqual(m["sent"], 20 * 10 * 2.5)
        self.assertEqual(m["received"], m["sent"])
        ssh_part = rep["agents"][1]
        self.assertTrue(ssh_part["agent"].startswith("unixexec:path="))
        # The part ran on a2, asked for over ssh.
        own = self.agent_report("a2", ssh_part["run"])
        self.assertEqual(own["errors"]["messages"]["sent"], ssh_part["throughput"]["messages_sent"])

    def test_clock_skew_refused(self):
        run_id, rep = self.run_scenario("skewed")
        self.assertEqual(rep["metadata"]["state"], "failed")
        self.assertRegex(rep["metadata"]["failure_reason"],
                         r"its clock is \+50\d\.\d ms from ours, more than max_clock_skew_ms = 50")
        # Nothing was started on the good agent either.
        self.assertEqual(ctl_json(self.buses["a1"], "status")["active_run"], "")

    def test_overrides(self):
        run_id, rep = self.run_scenario("spread", "--agents", "local", "--set", "duration=1")
        self.assertEqual(rep["metadata"]["state"], "finished")
        self.assertNotIn("agents", rep)
        p = ctl(self.bus, "start", "spread", "--agents", "a1,b*x", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("override agents: \"b*x\": the weight after '*' must be a number above 0",
                      p.stderr)
        # Only agents the file names: an address is a command to run, a host
        # is reached with the daemon's ssh identity.
        p = ctl(self.bus, "start", "spread", "--agents", "elsewhere.example", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('"elsewhere.example" is not an agent of', p.stderr)
        # A configured one with another weight is fine.
        run_id, rep = self.run_scenario("spread", "--agents",
                                        f"{self.buses['a1'].address}*3", "--set", "duration=1")
        self.assertEqual(rep["metadata"]["state"], "finished", rep["metadata"])
        self.assertEqual([p["clients"] for p in rep["agents"]], [60])

    def test_z_agent_dies(self):
        """Last: it kills agent a3's daemon."""
        run_id = ctl(self.bus, "start", "long").stdout.split()[0]
        deadline = time.monotonic() + 30
        while ctl_json(self.bus, "status", run_id)["State"] != "running":
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.2)
        time.sleep(1)
        self.agents["a3"].stop(sig=signal.SIGKILL)
        ctl(self.bus, "wait", run_id, check=False, timeout=60)
        rep = ctl_json(self.bus, "report", run_id)
        self.assertEqual(rep["metadata"]["state"], "failed")
        self.assertIn(self.buses["a3"].address, rep["metadata"]["failure_reason"])
        a1_part = rep["agents"][0]
        self.assertEqual(ctl_json(self.buses["a1"], "status", a1_part["run"])["State"],
                         "cancelled")
        # The coordinator carries on.
        self.assertEqual(ctl(self.bus, "status").returncode, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
