#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The HTML report in a real browser: headless Chromium (Debian's chromium)
opens pages wsbench-report makes from stored reports (one run, five servers
compared, and one with hostile strings), takes screenshots and dumps the DOM.
The screenshots must not be blank (many colours, the series' colours among
them) and the DOM must hold the charts with their axes, ticks and legends,
and no element a report's strings could have injected. Skipped (exit 77)
when chromium is not installed. Screenshots are left in BUILD/tests/ for a
human to look at."""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "lib"))
import servers  # noqa: E402

BUILD = servers.build_dir()
TOOL = os.path.join(BUILD, "report", "wsbench-report")
OUT = os.path.join(BUILD, "tests")
REPORTS = os.path.join(TESTS, "report")
SINGLE = os.path.join(REPORTS, "burst-100_c-lws_10s.json")
COMPARED = [SINGLE] + [os.path.join(REPORTS, f"burst-100_{s}_1s.json") for s in
                       ("go-gorilla", "rust-tungstenite", "node-ws", "dotnet-kestrel")]
CHARTS = ["latency-spectrum", "throughput", "p99-per-second", "cpu", "rss"]
BLUE, VERMILLION = (0x00, 0x72, 0xB2), (0xD5, 0x5E, 0x00)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(url, *args):
    with tempfile.TemporaryDirectory() as profile:
        p = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--no-first-run", "--disable-sync", "--hide-scrollbars",
             f"--user-data-dir={profile}"] + list(args) + [url],
            capture_output=True, text=True, timeout=120)
    return p


def png_pixels(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA PNG,
    decoded with the standard library (zlib and the five row filters)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif ftype == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif ftype == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def near(pixel, colour, tolerance=40):
    return sum(abs(a - b) for a, b in zip(pixel, colour)) <= tolerance


class ReportInChromium(unittest.TestCase):
    def page(self, name, reports):
        path = os.path.join(OUT, f"report-{name}.html")
        with open(path, "w") as f:
            subprocess.run([TOOL, "html"] + reports, stdout=f, check=True, timeout=60)
        return path

    def screenshot(self, html, name, width=1000, height=1400):
        png = os.path.join(OUT, f"report-{name}.png")
        if os.path.exists(png):
            os.unlink(png)
        p = chromium("file://" + html, f"--screenshot={png}", f"--window-size={width},{height}")
        self.assertTrue(os.path.exists(png), p.stderr[-2000:])
        return png_pixels(png)

    def dom(self, html):
        p = chromium("file://" + html, "--dump-dom")
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertIn("</html>", p.stdout)
        return p.stdout

    def assert_rendered(self, pixels, colours):
        width, height, rows = pixels
        seen, ink = set(), 0
        found = {c: 0 for c in colours}
        for row in rows:
            for px in row:
                seen.add(px)
                if px != (255, 255, 255):
                    ink += 1
                for c in colours:
                    if near(px, c):
                        found[c] += 1
        # Text, lines and anti-aliasing: a blank or broken page has a handful.
        self.assertGreater(len(seen), 200, "too few colours: blank page?")
        self.assertGreater(ink / (width * height), 0.02)
        self.assertLess(ink / (width * height), 0.6)
        for c, n in found.items():
            self.assertGreater(n, 150, f"hardly any pixel of colour {c}: no series drawn?")

    def assert_charts(self, dom, legend_entries):
        for chart in CHARTS:
            self.assertIn(f'<svg class="chart" data-chart="{chart}"', dom)
        self.assertEqual(dom.count('<svg class="chart"'), len(CHARTS))
        self.assertEqual(dom.count('<g class="axis x">'), len(CHARTS))
        self.assertEqual(dom.count('<g class="axis y">'), len(CHARTS))
        self.assertEqual(dom.count('<g class="legend">'), len(CHARTS))
        self.assertGreaterEqual(dom.count('class="axis-title"'), 2 * len(CHARTS))
        self.assertGreaterEqual(dom.count('class="tick-label"'), 5 * len(CHARTS))
        for label in ("99%", "99.9%", "99.99%", "latency (ms)", "RSS (MiB)"):
            self.assertIn(f">{label}</text>", dom)
        spectrum = dom[dom.index('data-chart="latency-spectrum"'):]
        spectrum = spectrum[:spectrum.index("</svg>")]
        self.assertEqual(spectrum.count('class="legend-entry"'), legend_entries)
        self.assertGreaterEqual(spectrum.count("<path "), 2)

    def test_one_run(self):
        html = self.page("one", [SINGLE])
        self.assert_rendered(self.screenshot(html, "one"), [BLUE])
        self.assert_charts(self.dom(html), 2)  # corrected, uncorrected

    def test_five_servers_compared(self):
        html = self.page("compared", COMPARED)
        self.assert_rendered(self.screenshot(html, "compared"), [BLUE, VERMILLION])
        dom = self.dom(html)
        self.assert_charts(dom, 5 + 2)  # a colour per server, then the two line styles
        for server in ("c-lws", "go-gorilla", "rust-tungstenite", "node-ws", "dotnet-kestrel"):
            self.assertIn(server, dom)

    def test_hostile_strings_stay_text(self):
        with open(SINGLE) as f:
            report = json.load(f)
        evil = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'
        report["metadata"]["server"] = evil
        report["metadata"]["failure_reason"] = "</div><script>alert(2)</script>"
        report["serverConfig"]["command"] = ["<svg onload=alert(3)>"]
        path = os.path.join(OUT, "report-hostile.json")
        with open(path, "w") as f:
            json.dump(report, f)
        dom = self.dom(self.page("hostile", [path]))
        self.assertNotIn("<script", dom)
        self.assertNotIn("<img", dom)
        self.assertNotIn("<svg onload", dom)
        self.assertNotIn("pwned</title>", dom)
        self.assertIn("&lt;script&gt;document.title=\"pwned\"&lt;/script&gt;", dom)


if __name__ == "__main__":
    if not CHROMIUM:
        print("SKIP: chromium is not installed (Debian: apt-get install chromium; "
              "scripts/setup installs it)")
        sys.exit(77)
    os.makedirs(OUT, exist_ok=True)
    unittest.main(verbosity=2)
