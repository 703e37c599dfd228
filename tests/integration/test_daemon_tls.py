#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""wsbenchd with TLS and permessage-deflate (issue 19), on a private
dbus-daemon: c-lws and go-gorilla configured with a certificate from a
throwaway CA made with the openssl command for this run (nothing
committed); a tls run gets sent = received and its report says TLS 1.3 and
the cipher; a deflate run with text payloads against go-gorilla records
what the server accepted; a tls run against a server without the
capability is refused naming it; --check-config catches a missing key file
and a key that is not the certificate's, with file:line, and warns about a
world-readable key. Servers listen on free ports."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from privatebus import Daemon, PrivateBus, build, ctl, ctl_json  # noqa: E402
from servers import available_servers, free_port  # noqa: E402
from pki import make_pki  # noqa: E402

# The sanitizer build (scripts/test) leaves the reference servers out.
HAVE_GORILLA = "go-gorilla" in available_servers()

RUN = ["--set", "duration=2", "--set", "drain_timeout=2", "--set", "clients=4",
       "--set", "rate=50"]


def config_text(d, reports, ports, key="server.key"):
    tls = (f'tls = {{ cert = "{d}/server.pem"; key = "{d}/{key}"; ca = "{d}/ca.pem"; }};')
    return f"""daemon: {{ report_dir = "{reports}"; html_reports = false; }};
servers = (
  {{ name = "c-lws"; builtin = true; port = {ports[0]};
    {tls} }},
  {{ name = "go-gorilla"; language = "go";
    command = ["{{servers_dir}}/go-gorilla", "--port", "{{port}}"]; port = {ports[1]};
    capabilities = [ "tls", "deflate" ];
    {tls} }},
  {{ name = "rust-tungstenite"; language = "rust";
    command = ["{{servers_dir}}/rust-tungstenite", "--port", "{{port}}"]; port = {ports[2]}; }}
);
scenarios = (
  {{ name = "wss"; tls = true; }},
  {{ name = "plain"; }},
  {{ name = "compressed"; deflate = true; payload = "text"; message_size = 1024; }}
);
"""


def check_config(path):
    p = subprocess.run([build("daemon", "wsbenchd"), "--check-config", path],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout + p.stderr


class DaemonTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("openssl"):
            raise unittest.SkipTest("no openssl command")
        cls.tmp = tempfile.mkdtemp(prefix="wsbench-daemon-tls-")
        make_pki(cls.tmp)
        cls.ports = [free_port() for _ in range(3)]
        cls.config = os.path.join(cls.tmp, "wsbench.conf")
        with open(cls.config, "w") as f:
            f.write(config_text(cls.tmp, os.path.join(cls.tmp, "reports"), cls.ports))
        cls.bus = PrivateBus().start()
        cls.daemon = Daemon(cls.bus, cls.config, os.path.join(cls.tmp, "wsbenchd.log")).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.bus.stop()
        if os.environ.get("WSBENCH_KEEP_TMP"):
            print(f"kept {cls.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_scenario(self, scenario, server, *extra):
        run_id = ctl_json(self.bus, "start", scenario, "--server", server, *RUN, *extra)["id"]
        p = ctl(self.bus, "--json", "wait", run_id, check=False)
        self.assertEqual(json.loads(p.stdout)["State"], "finished",
                         f"{p.stdout}\n{self.daemon.read_log()[-3000:]}")
        return run_id, ctl_json(self.bus, "report", run_id)

    def check_tls_report(self, rep, port):
        self.assertEqual(rep["clientConfig"]["url"], f"wss://127.0.0.1:{port}/")
        self.assertIs(rep["clientConfig"]["tls"], True)
        msgs = rep["errors"]["messages"]
        self.assertGreater(msgs["sent"], 0)
        self.assertEqual(msgs["sent"], msgs["received"], msgs)
        self.assertEqual(rep["tls"]["version"], "TLSv1.3")
        self.assertTrue(rep["tls"]["cipher"].startswith("TLS_"), rep["tls"])
        self.assertEqual(rep["tls"]["verify"], "ca")

    def test_list_servers_capabilities(self):
        servers = {s["name"]: s for s in ctl_json(self.bus, "list-servers")}
        self.assertEqual(servers["c-lws"]["capabilities"], ["tls", "deflate"])
        self.assertEqual(servers["go-gorilla"]["capabilities"], ["tls", "deflate"])
        self.assertEqual(servers["rust-tungstenite"]["capabilities"], [])
        text = ctl(self.bus, "list-servers").stdout
        self.assertIn("CAPABILITIES", text)
        self.assertRegex(text, r"rust-tungstenite +rust +command +- ")

    def test_tls_run_c_lws(self):
        run_id, rep = self.run_scenario("wss", "c-lws")
        self.check_tls_report(rep, self.ports[0])
        text = ctl(self.bus, "report", run_id).stdout
        self.assertRegex(text, r"TLS\n  TLSv1\.3, TLS_\w+, verification: ca; ")
        self.assertIn("handshake p50", text)

    @unittest.skipUnless(HAVE_GORILLA, "go-gorilla not built")
    def test_tls_run_go_gorilla(self):
        _, rep = self.run_scenario("plain", "go-gorilla", "--set", "tls=true")
        self.check_tls_report(rep, self.ports[1])

    @unittest.skipUnless(HAVE_GORILLA, "go-gorilla not built")
    def test_deflate_text_go_gorilla(self):
        _, rep = self.run_scenario("compressed", "go-gorilla")
        cc = rep["clientConfig"]
        self.assertIs(cc["deflate"], True)
        self.assertEqual(cc["payload"], "text")
        self.assertIs(cc["tls"], False)
        msgs = rep["errors"]["messages"]
        self.assertEqual(msgs["sent"], msgs["received"], msgs)
        self.assertEqual(msgs["corrupted"], 0)
        self.assertIs(rep["deflate"]["accepted"], True, rep["deflate"])
        # gorilla compresses without context takeover both ways.
        self.assertIs(rep["deflate"]["server_no_context_takeover"], True, rep["deflate"])
        tp = rep["throughput"]
        self.assertLess(tp["wire_bytes_per_message_sent"], tp["payload_bytes_per_message"], tp)

    def test_refused_without_capability(self):
        for args in (["wss", "--server", "rust-tungstenite"],
                     ["compressed", "--server", "rust-tungstenite"]):
            p = ctl(self.bus, "start", *args, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("rust-tungstenite", p.stderr)
            self.assertIn("tls" if args[0] == "wss" else "deflate", p.stderr)
            self.assertIn("capability", p.stderr)
        p = ctl(self.bus, "compare", "wss", "--servers", "c-lws,rust-tungstenite", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("server rust-tungstenite does not have the tls capability", p.stderr)

    def test_check_config_files(self):
        rc, out = check_config(self.config)
        self.assertEqual(rc, 0, out)
        self.assertNotIn("warning", out)
        bad = os.path.join(self.tmp, "bad.conf")
        text = config_text(self.tmp, "/tmp/r", self.ports)
        lines = text.splitlines()
        line_of = [i + 1 for i, l in enumerate(lines) if "tls = {" in l]
        # a missing key file (c-lws) and a key that is not the cert's (gorilla)
        first = text.index("server.key")
        second = text.index("server.key", first + 1)
        text = text[:first] + "missing.key" + text[first + len("server.key"):second] \
            + "other.key" + text[second + len("server.key"):]
        with open(bad, "w") as f:
            f.write(text)
        rc, out = check_config(bad)
        self.assertEqual(rc, 1, out)
        self.assertIn(f"bad.conf:{line_of[0]}: servers.[0].tls.key: cannot read "
                      f"\"{self.tmp}/missing.key\": No such file or directory", out)
        self.assertIn(f"bad.conf:{line_of[1]}: servers.[1].tls.key: \"{self.tmp}/other.key\" "
                      f"is not the private key of the certificate", out)

    def test_world_readable_key_warns(self):
        d = os.path.join(self.tmp, "open")
        os.makedirs(d, exist_ok=True)
        for f in ("server.pem", "server.key", "ca.pem"):
            shutil.copy(os.path.join(self.tmp, f), d)
        os.chmod(os.path.join(d, "server.key"), 0o644)
        conf = os.path.join(d, "w.conf")
        with open(conf, "w") as f:
            f.write(config_text(d, "/tmp/r", self.ports))
        rc, out = check_config(conf)
        self.assertEqual(rc, 0, out)
        self.assertIn(f"warning: {conf}:4: servers.[0].tls.key: \"{d}/server.key\" is readable "
                      f"by every user (mode 0644)", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
