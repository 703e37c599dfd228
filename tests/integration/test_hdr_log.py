#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The HdrHistogram interval log, read back by an independent implementation:
HdrHistogram.js (npm package hdr-histogram-js, pinned by
tests/hdrlog/package-lock.json and installed under the build directory)
decodes the log wsbench-report writes from a stored report. The decoded
histograms must hold exactly the report's buckets (the log is lossless), have
HdrHistogram's layout for 1 us .. 1 h at 3 digits, and give the report's
percentiles to within the histogram's precision."""

import json
import math
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "lib"))
import servers  # noqa: E402

BUILD = servers.build_dir()
TOOL = os.path.join(BUILD, "report", "wsbench-report")
JS_DIR = os.path.join(BUILD, "tests", "hdrlog-js")
FIXTURES = [os.path.join(TESTS, "report", f)
            for f in ("burst-100_c-lws_10s.json", "burst-100_go-gorilla_1s.json")]
PERCENTILES = [("p50", 50), ("p90", 90), ("p99", 99), ("p99_9", 99.9), ("p99_99", 99.99)]


def install_decoder():
    """npm ci of the pinned lock into the build directory, once per lock."""
    src = os.path.join(TESTS, "hdrlog")
    os.makedirs(JS_DIR, exist_ok=True)
    for name in ("package.json", "package-lock.json", "decode.js"):
        shutil.copyfile(os.path.join(src, name), os.path.join(JS_DIR, name))
    stamp = os.path.join(JS_DIR, "node_modules", ".wsbench-lock")
    with open(os.path.join(src, "package-lock.json")) as f:
        lock = f.read()
    if os.path.exists(stamp) and open(stamp).read() == lock:
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                   cwd=JS_DIR, check=True, timeout=300)
    with open(stamp, "w") as f:
        f.write(lock)


# common/histogram.h's bucket arithmetic, independent of the C code.
def lowest_equivalent(index):
    b = (index >> 10) - 1
    sub = (index & 1023) + 1024
    if b < 0:
        sub -= 1024
        b = 0
    return sub << b


def report_buckets(text):
    """The report's "hdr1 total min max overflow sum sumsq i:c ..." as
    {lowest equivalent value: count}."""
    fields = text.split()
    assert fields[0] == "hdr1"
    out = {}
    for pair in fields[7:]:
        i, c = pair.split(":")
        out[lowest_equivalent(int(i))] = int(c)
    return out, int(fields[1]), int(fields[3])


def value_at_rank(buckets, rank):
    """The highest equivalent value of the bucket holding the rank-th value,
    from the decoder's own bucket boundaries."""
    seen = 0
    for _, count, _, highest in buckets:
        seen += count
        if seen >= rank:
            return highest
    return buckets[-1][3]


class HdrLogReadByHdrHistogramJs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("node") or not shutil.which("npm"):
            raise unittest.SkipTest("node and npm are needed to run HdrHistogram.js")
        install_decoder()

    def decode(self, report_path):
        log = os.path.join(BUILD, "tests", os.path.basename(report_path) + ".hlog")
        with open(log, "w") as f:
            subprocess.run([TOOL, "hdr-log", report_path], stdout=f, check=True, timeout=60)
        p = subprocess.run(["node", os.path.join(JS_DIR, "decode.js"), log],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(log) as f:
            return f.read(), json.loads(p.stdout)

    def test_log_is_lossless_and_gives_the_reports_percentiles(self):
        for path in FIXTURES:
            with open(path) as f:
                report = json.load(f)
            text, intervals = self.decode(path)
            self.assertTrue(text.startswith("#[Histogram log format version 1.3]\n"))
            self.assertIn('"StartTimestamp","Interval_Length","Interval_Max",'
                          '"Interval_Compressed_Histogram"\n', text)
            tags = {iv["tag"]: iv for iv in intervals}
            self.assertEqual(sorted(tags), ["NO TAG", "uncorrected"])
            for which, tag in (("corrected", "NO TAG"), ("uncorrected", "uncorrected")):
                with self.subTest(report=os.path.basename(path), histogram=which):
                    self.check(report, which, tags[tag])

    def check(self, report, which, iv):
        # HdrHistogram's layout for lowest 1, highest 1 h, 3 digits is ours.
        self.assertEqual((iv["lowest"], iv["highest"], iv["digits"], iv["countsLength"]),
                         (1, 3600000000, 3, 23552))
        mine, total, max_us = report_buckets(report["histogram"][which])
        theirs = {lowest: count for _, count, lowest, _ in iv["buckets"]}
        self.assertEqual(theirs, mine, "the decoded buckets differ from the report's")
        self.assertEqual(iv["total"], total)
        lat = report["latency"][which]
        self.assertEqual(iv["total"], lat["count"])

        # The interval is the measured period.
        measured = report["throughput"]["measured_seconds"]
        self.assertAlmostEqual((iv["endMs"] - iv["startMs"]) / 1000, measured, places=2)

        n = iv["total"]
        for name, p in PERCENTILES:
            theirs_value = iv["percentiles"][str(p)] if str(p) in iv["percentiles"] \
                else iv["percentiles"][repr(p)]
            # HdrHistogram: rank round(p N); ours (histogram_percentile): ceil(p N)
            # in floating point, clamped to the exact maximum.
            rank_hdr = max(1, math.floor(p / 100 * n + 0.5))
            rank_ours = max(1, math.ceil(p / 100.0 * n))
            self.assertEqual(theirs_value, value_at_rank(iv["buckets"], rank_hdr))
            ours = min(value_at_rank(iv["buckets"], rank_ours), max_us) / 1000
            self.assertAlmostEqual(lat[name], ours, places=3,
                                   msg=f"{which} {name}: report {lat[name]} ms, "
                                       f"decoded log {ours} ms at rank {rank_ours}")
            if rank_hdr == rank_ours:
                # Same rank: the same bucket, so equal within its width
                # (< 1/1024 of the value, plus the report's 1 us rounding).
                tolerance = theirs_value / 1024 + 1
                self.assertLessEqual(abs(lat[name] * 1000 - theirs_value), tolerance,
                                     f"{which} {name}: report {lat[name]} ms, "
                                     f"HdrHistogram.js {theirs_value} us")
            else:
                print(f"note: {which} {name}: HdrHistogram takes rank {rank_hdr} of {n}, "
                      f"histogram_percentile() rank {rank_ours} ({lat[name]} ms against "
                      f"HdrHistogram.js's {theirs_value / 1000} ms)", file=sys.stderr)
        self.assertLessEqual(abs(iv["max"] - max_us), max_us / 1024 + 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
