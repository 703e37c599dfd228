#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""wsbenchctl's bash completion (completion/wsbenchctl), driven through
bash-completion as an interactive shell would, against a wsbenchd on a
private bus: verbs, options, --set keys and values, and the scenario names,
server names and run ids the daemon reports.

From the build tree (meson test) it uses the built wsbenchctl and wsbenchd
and the completion file in the source tree; with --installed
(tests/packaging) the installed ones."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from privatebus import SOURCE, PrivateBus, build, tool_env  # noqa: E402

INSTALLED = "--installed" in sys.argv
if INSTALLED:
    sys.argv.remove("--installed")

BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
if INSTALLED:
    COMPLETION = "/usr/share/bash-completion/completions/wsbenchctl"
    CTL_DIR, WSBENCHD = "/usr/bin", "/usr/sbin/wsbenchd"
else:
    COMPLETION = os.path.join(SOURCE, "completion", "wsbenchctl")
    CTL_DIR, WSBENCHD = build("ctl"), build("daemon", "wsbenchd")

# Completes like bash: COMP_WORDS as bash splits the line (at blanks, and at
# the = and : of COMP_WORDBREAKS, which become words of their own), the
# cursor at the end of the line ($1; the words follow it); prints what
# _wsbenchctl offers, one per line.
DRIVER = r'''
source "$BASH_COMPLETION"
source "$COMPLETION"
compopt() { :; }  # a builtin that only works inside a real completion
COMP_LINE=$1
COMP_POINT=${#1}
shift
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMPREPLY=()
_wsbenchctl wsbenchctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}"
'''


def bash_words(line):
    words = []
    for w in line.split():
        words += re.findall(r"[=:]+|[^=:]+", w)
    if line.endswith(" ") or not line:
        words.append("")
    return words


def complete_line(line, env):
    """What the word under the cursor becomes when bash completes @line
    (a reply replaces the text after the word's last = or :), and stderr."""
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", DRIVER, "driver", line]
                       + bash_words(line), capture_output=True, text=True, env=env, timeout=30)
    if p.returncode != 0:
        raise AssertionError(p.stderr)
    word = "" if line.endswith(" ") else line.split()[-1]
    kept = word[:len(word) - len(re.split(r"[=:]", word)[-1])]
    return [kept + r for r in p.stdout.split("\n") if r], p.stderr


class Completion(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(BASH_COMPLETION):
            raise unittest.SkipTest("bash-completion is not installed")
        cls.tmp = tempfile.mkdtemp(prefix="wsbench-completion-")
        cls.reports = os.path.join(cls.tmp, "reports")
        cls.config = os.path.join(cls.tmp, "wsbench.conf")
        shipped = "/etc/wsbench.conf" if INSTALLED else os.path.join(SOURCE, "etc", "wsbench.conf")
        with open(shipped) as f:
            text = f.read()
        with open(cls.config, "w") as f:
            f.write(text.replace('"/var/lib/wsbench/reports"', f'"{cls.reports}"'))
        cls.bus = PrivateBus().start()
        cls.start_daemon()
        # A finished run, for the run ids.
        cls.finished = cls.ctl_json("start", "single", "--set", "duration=0.5", "--set",
                                    "warmup=0")["id"]
        for _ in range(100):
            if cls.ctl_json("status", cls.finished)["State"] == "finished":
                break
            time.sleep(0.1)

    @classmethod
    def start_daemon(cls):
        # Installed, the daemon finds its tools itself; from the build tree
        # they come from WSBENCH_* as in every test there.
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        if not INSTALLED:
            env.update({k: v for k, v in tool_env().items() if k.startswith("WSBENCH_")})
        cls.log = open(os.path.join(cls.tmp, "wsbenchd.log"), "a")
        cls.daemon = subprocess.Popen([WSBENCHD, "--config", cls.config, "--bus-address",
                                       cls.bus.address], stdout=cls.log,
                                      stderr=subprocess.STDOUT, env=env)
        for _ in range(100):
            if cls.ctl("status").returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("wsbenchd did not come up")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.terminate()
        cls.daemon.wait(30)
        cls.log.close()
        cls.bus.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def ctl(cls, *args):
        return subprocess.run([os.path.join(CTL_DIR, "wsbenchctl"), "--bus-address",
                               cls.bus.address] + list(args), capture_output=True, text=True)

    @classmethod
    def ctl_json(cls, *args):
        return json.loads(cls.ctl("--json", *args).stdout)

    def env(self):
        return {"PATH": f"{CTL_DIR}:/usr/bin:/bin", "BASH_COMPLETION": BASH_COMPLETION,
                "COMPLETION": COMPLETION, "HOME": self.tmp}

    def complete(self, line, bus=True):
        """What bash would complete the last word of @line to ("wsbenchctl "
        is prepended, with --bus-address when @bus)."""
        prefix = "wsbenchctl "
        if bus:
            prefix += f"--bus-address {self.bus.address} "
        words, err = complete_line(prefix + line, self.env())
        self.assertEqual(err, "")
        return words

    def test_verbs(self):
        verbs = self.complete("", bus=False)
        for v in ("list-servers", "list-scenarios", "start", "status", "wait", "cancel", "runs",
                  "report", "reload"):
            self.assertIn(v, verbs)
        self.assertEqual(self.complete("li", bus=False), ["list-servers", "list-scenarios"])

    def test_options(self):
        self.assertIn("--bus-address", self.complete("--", bus=False))
        start = self.complete("start --")
        for o in ("--server", "--set", "--wait", "--json"):
            self.assertIn(o, start)
        self.assertNotIn("--server", self.complete("runs --"))
        report = self.complete("report x --")
        for o in ("--html", "--hdr-log", "--json"):
            self.assertIn(o, report)
        self.assertNotIn("--html", start)

    def test_scenarios_and_servers_from_the_daemon(self):
        names = [s["name"] for s in self.ctl_json("list-scenarios")]
        self.assertEqual(sorted(self.complete("start ")), sorted(names))
        self.assertEqual(self.complete("start burst"), ["burst-100"])
        servers = [s["name"] for s in self.ctl_json("list-servers")]
        self.assertEqual(sorted(self.complete("start single --server ")), sorted(servers))
        self.assertEqual(self.complete("start single --server go"), ["go-gorilla"])
        # Options after the scenario still complete the server's names.
        self.assertEqual(self.complete("--server no"), ["node-ws"])

    def test_set_keys_and_values(self):
        self.assertEqual(self.complete("start single --set dur"), ["duration="])
        self.assertEqual(self.complete("start single --set message_t"), ["message_type="])
        self.assertEqual(self.complete("start single --set pattern=b"), ["pattern=burst"])
        self.assertEqual(sorted(self.complete("start single --set message_type=")),
                         ["message_type=binary", "message_type=text"])

    def test_run_ids(self):
        ids = [r["id"] for r in self.ctl_json("runs")]
        self.assertIn(self.finished, ids)
        for verb in ("status", "wait", "report"):
            self.assertEqual(sorted(self.complete(f"{verb} ")), sorted(ids), verb)
        # A finished run cannot be cancelled: not offered.
        self.assertNotIn(self.finished, self.complete("cancel "))
        run_id = self.ctl_json("start", "single", "--set", "duration=30")["id"]
        try:
            self.assertEqual(self.complete("cancel "), [run_id])
        finally:
            self.ctl("cancel", run_id)
        # One argument only.
        self.assertEqual(self.complete(f"status {self.finished} "), [])

    def test_no_daemon_no_noise(self):
        self.assertEqual(complete_line("wsbenchctl --bus-address unix:path=/nonexistent start ",
                                       self.env()), ([], ""))

    def test_bus_address(self):
        self.assertEqual(self.complete("--bus-address unix:p", bus=False), ["unix:path="])


if __name__ == "__main__":
    unittest.main(verbosity=2)
