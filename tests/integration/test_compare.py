#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""wsbenchctl compare on a real private bus with real servers: the trials'
interleaved order and their reports, the table, --json, --markdown and
--html, rebuilding from a compare id or from runs, cancelling a compare as
one, A/A arms, a noisy trial run once more, and bad requests."""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import servers  # noqa: E402

# The sanitizer build (scripts/test) leaves the reference servers out: then
# c-lws is compared with itself as the second server.
OTHER = "go-gorilla" if "go-gorilla" in servers.available_servers() else "c-lws"
from privatebus import Daemon, PrivateBus, build, ctl, ctl_json  # noqa: E402

SHORT = ["--set", "duration=1.5", "--set", "warmup=0.5", "--set", "drain_timeout=3"]


def config(report_dir):
    """Our own ports (free ones): other daemon tests may run beside us."""
    p = servers.free_port
    return f'''daemon: {{
  report_dir = "{report_dir}";
  default_server = "c-lws";
}};
servers = (
  {{ name = "c-lws"; language = "c"; builtin = true; port = {p()}; threads = 1; }},
  {{ name = "go-gorilla"; language = "go";
    command = ["{{servers_dir}}/go-gorilla", "--port", "{{port}}"]; port = {p()}; }}
);
scenarios = (
  {{ name = "burst-100"; clients = 100; rate = 10.0; duration = 4.0; warmup = 0.5; }},
  {{ name = "long"; clients = 10; rate = 10.0; duration = 60.0; }}
);
'''


def compare_json(bus, *args, **kw):
    p = ctl(bus, "--json", "compare", *args, **kw)
    return json.loads(p.stdout)


def dbus_get_compare(bus, cid):
    """GetCompare through dbus-send: the daemon's record, independent of
    wsbenchctl's parsing."""
    p = subprocess.run(["dbus-send", f"--bus={bus.address}", "--print-reply",
                        "--dest=org.wsbench1", "/org/wsbench1", "org.wsbench1.Manager.GetCompare",
                        f"string:{cid}"], capture_output=True, text=True, check=True)
    return p.stdout


class CompareCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wsbench-compare-")
        cls.reports = os.path.join(cls.tmp, "reports")
        cls.config = os.path.join(cls.tmp, "wsbench.conf")
        with open(cls.config, "w") as f:
            f.write(config(cls.reports))
        cls.bus = PrivateBus().start()
        cls.daemon = Daemon(cls.bus, cls.config, os.path.join(cls.tmp, "wsbenchd.log")).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.bus.stop()

    def report(self, run):
        return ctl_json(self.bus, "report", run)

    def test_two_servers_interleaved(self):
        m = compare_json(self.bus, "burst-100", "--servers", f"c-lws,{OTHER}", "--repeat", "2",
                         *SHORT)
        self.assertEqual(m["baseline"], "c-lws")
        self.assertIn("Welch", m["method"])
        cid = m["compare_id"]
        names = [s["name"] for s in m["servers"]]
        self.assertEqual(names, ["c-lws", OTHER])
        for s in m["servers"]:
            self.assertEqual(s["trials"], 2, s)
            self.assertEqual(len(s["runs"]), 2)
            # Every figure that ranks servers has its trials' values.
            for key in ("rate", "p50", "p99", "p99_9", "server_cpu_us_per_echo",
                        "client_cpu_us_per_echo", "kib_per_connection", "errors"):
                self.assertEqual(len(s["figures"][key]["values"]), 2, (s["name"], key))
                f = s["figures"][key]
                self.assertLessEqual(f["ci_low"], f["median"] + 1e-9)
                self.assertGreaterEqual(f["ci_high"], f["median"] - 1e-9)
            # Each trial sent and received every message: 100 clients x 10/s
            # over warm-up and duration (the load engine's own count is
            # checked against a counting server in test_daemon).
            for v in s["figures"]["rate"]["values"]:
                self.assertAlmostEqual(v, 1000, delta=50)
        vs = m["servers"][1]["vs_baseline"]
        for key in ("rate", "p50", "p99", "p99_9", "errors", "server_cpu_us_per_echo"):
            self.assertIn(vs[key]["verdict"], ("same", "better", "worse"), key)
            self.assertLessEqual(vs[key]["ci_low"], vs[key]["ratio"] + 1e-9)
        # Same rate offered, same rate achieved: the ratio is 1 and said so.
        self.assertAlmostEqual(vs["rate"]["ratio"], 1.0, delta=0.05)

        # The daemon's record: warm-ups first, then rounds in rotated order.
        rec = dbus_get_compare(self.bus, cid)
        self.assertIn('"finished"', rec)
        c = compare_json(self.bus, cid)  # rebuilt from the compare id
        self.assertEqual([s["runs"] for s in c["servers"]], [s["runs"] for s in m["servers"]])
        order = []
        for s in m["servers"]:
            for run in s["runs"]:
                meta = self.report(run)["metadata"]
                self.assertEqual(meta["compare"]["id"], cid)
                self.assertEqual(meta["server"], s["name"])
                self.assertFalse(meta["compare"]["warmup"])
                order.append((meta["start"], meta["compare"]["trial"], s["name"]))
        order.sort()
        # Round 1 starts with the first server, round 2 with the second.
        self.assertEqual([t for _, t, _ in order], [1, 1, 2, 2])
        arms = []
        for s in m["servers"]:
            for run in s["runs"]:
                meta = self.report(run)["metadata"]
                arms.append((meta["start"], meta["compare"]["arm"]))
        self.assertEqual([a for _, a in sorted(arms)], [0, 1, 1, 0])
        # The warm-ups ran first, shorter, and are not counted.
        warmups = []
        for r in ctl_json(self.bus, "runs"):
            if r["state"] != "finished":
                continue
            j = self.report(r["id"])
            c = j["metadata"].get("compare", {})
            if c.get("id") == cid and c.get("warmup"):
                warmups.append(j)
        self.assertEqual(sorted(j["metadata"]["compare"]["arm"] for j in warmups), [0, 1])
        for j in warmups:
            self.assertEqual(j["clientConfig"]["duration_s"], 1.5)
            self.assertLess(j["metadata"]["start"], order[0][0])

        # The same from the runs given one by one.
        ids = [r for s in m["servers"] for r in s["runs"]]
        again = compare_json(self.bus, *ids)
        self.assertEqual([s["trials"] for s in again["servers"]], [2, 2])
        self.assertEqual(again["servers"][1]["vs_baseline"]["rate"]["ratio"],
                         vs["rate"]["ratio"])

        # The table, Markdown and the page.
        text = ctl(self.bus, "compare", cid).stdout
        self.assertIn("vs c-lws", text)
        self.assertRegex(text, r"rate \(msg/s\)\s+\d+ \[\d+-\d+\]")
        md = ctl(self.bus, "compare", cid, "--markdown").stdout
        self.assertIn("| --- |", md)
        self.assertRegex(md, r"\| p99 \(ms\) \|")
        page = os.path.join(self.tmp, "compare.html")
        ctl(self.bus, "compare", cid, "--html", page)
        with open(page) as f:
            html = f.read()
        self.assertTrue(html.startswith("<!DOCTYPE html>"))
        self.assertIn('data-chart="trials-p99"', html)
        self.assertEqual(html.count('class="trial"') >= 2 * 2 * 8, True)
        self.assertNotIn("<script", html)
        self.assertNotIn("http://", html.replace("http://www.w3.org/2000/svg", ""))

    def test_aa_arms(self):
        """The same server as two arms: both are kept apart, and the ratio of
        their rates is 1."""
        m = compare_json(self.bus, "burst-100", "--servers", "c-lws,c-lws", "--repeat", "2",
                         "--no-warmup", *SHORT)
        self.assertEqual([s["name"] for s in m["servers"]], ["c-lws", "c-lws"])
        self.assertEqual([s["trials"] for s in m["servers"]], [2, 2])
        self.assertNotEqual(m["servers"][0]["runs"], m["servers"][1]["runs"])
        self.assertAlmostEqual(m["servers"][1]["vs_baseline"]["rate"]["ratio"], 1.0, delta=0.05)

    def test_cancel_as_one(self):
        p = subprocess.Popen([build("ctl", "wsbenchctl"), "--bus-address", self.bus.address,
                              "compare", "long", "--repeat", "3"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = p.stdout.readline()
        self.assertRegex(first, r"^compare \S+: scenario long, 2 servers, 3 trials each, 8 runs")
        cid = first.split()[1].rstrip(":")
        time.sleep(1.5)
        ctl(self.bus, "cancel", cid)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 3, err)
        rec = dbus_get_compare(self.bus, cid)
        self.assertIn('"cancelled"', rec)
        self.assertNotIn('"finished"', rec)
        self.assertEqual(ctl_json(self.bus, "status")["queued_runs"], 0)
        # Cancelling again says it has ended.
        again = ctl(self.bus, "cancel", cid, check=False)
        self.assertEqual(again.returncode, 1)
        self.assertIn("has already ended (cancelled)", again.stderr)

    def test_noisy_trial_runs_again(self):
        """Two busy loops beside the compare: every trial is noisy; with
        --retry-noisy each runs once more (and only once)."""
        hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
        try:
            m = compare_json(self.bus, "burst-100", "--servers", "c-lws", "--repeat", "2",
                             "--no-warmup", "--retry-noisy", *SHORT)
        finally:
            for h in hogs:
                h.kill()
                h.wait()
        s = m["servers"][0]
        self.assertEqual(s["trials"], 2)
        self.assertEqual(s["noisy"], 2)
        rec = dbus_get_compare(self.bus, m["compare_id"])
        # Four runs: two superseded (noisy, true) and their two retries.
        self.assertEqual(rec.count("boolean true\n") >= 2, True, rec)
        for run in s["runs"]:
            j = self.report(run)
            self.assertEqual(j["noise"]["verdict"], "noisy")
            self.assertTrue(any("other processes" in r for r in j["noise"]["reasons"]), j["noise"])
            # Each counted trial is a retry, and names the one it replaces.
            self.assertIn("retry_of", j["metadata"]["compare"])
        # Rebuilt from all four runs, the replaced ones are not counted.
        replaced = [self.report(r)["metadata"]["compare"]["retry_of"] for r in s["runs"]]
        again = compare_json(self.bus, *(s["runs"] + replaced))
        self.assertEqual(again["servers"][0]["trials"], 2)
        self.assertEqual(sorted(x["why"] for x in again["servers"][0]["excluded"]),
                         ["noisy, run again"] * 2)
        # A finished compare cannot be cancelled, and stays finished.
        p = ctl(self.bus, "cancel", m["compare_id"], check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("has already ended (finished)", p.stderr)

    def test_bad_requests(self):
        p = ctl(self.bus, "compare", "burst-100", "--servers", "c-lws,nope", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('No server named "nope"', p.stderr)
        p = ctl(self.bus, "compare", "no-such-scenario", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('No scenario named "no-such-scenario"', p.stderr)
        p = ctl(self.bus, "compare", "burst-100", "--repeat", "0", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--repeat: expected a number of trials from 1 to 100, got '0'", p.stderr)
        p = ctl(self.bus, "compare", "burst-100", "--set", "clients=0", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("override clients: must be 1..100000, got 0", p.stderr)
        p = ctl(self.bus, "compare", "20261202T000000Z_999", "--servers", "c-lws", check=False)
        self.assertEqual(p.returncode, 2)
        p = ctl(self.bus, "compare", "20261202T000000Z_999", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("20261202T000000Z_999", p.stderr)
        p = ctl(self.bus, "report", "x", "--markdown", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--markdown does not apply to report", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
