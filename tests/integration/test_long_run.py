#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/long-run.py, small: 500 clients for 5 s against wsbench-echo --stats;
the report's counts must equal the server's own, with no error and nothing
lost."""

import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import servers  # noqa: E402

LONG_RUN = os.path.join(HERE, "..", "..", "bench", "long-run.py")


class LongRunSmall(unittest.TestCase):
    def test_counts_match_the_server_exactly(self):
        env = dict(os.environ, WSBENCH_BUILD_DIR=servers.build_dir())
        p = subprocess.run([sys.executable, LONG_RUN, "--clients", "500", "--rate", "10",
                            "--seconds", "5", "--ramp-up", "1", "--no-idle", "--json",
                            "--client-cpu", "-1", "--server-cpu", "-1"],
                           capture_output=True, text=True, timeout=120, env=env)
        self.assertTrue(p.stdout.strip(), p.stderr)
        fig = json.loads(p.stdout)
        srv, cli = fig["server"], fig["client"]
        self.assertEqual(cli["sent"], 500 * 10 * 5)
        self.assertEqual(cli["sent"], srv["received"])
        self.assertEqual(cli["received"], srv["echoed"])
        self.assertEqual(srv["connections"], 500)
        self.assertEqual(srv["closed"], 500)
        self.assertEqual(cli["lost"], 0)
        self.assertEqual(cli["errors"], 0)
        self.assertEqual(fig["verdict"], "COUNTS AGREE")
        self.assertEqual(p.returncode, 0)
        self.assertGreater(fig["ramp"]["achieved_per_s"], 0)


if __name__ == "__main__":
    unittest.main()
