#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What the load generator itself costs: CPU per echo, side by side.

Starts one wsbench-echo (--threads 1) pinned to --server-cpu, then runs each
load client pinned to --client-cpu against it, one at a time, at each fixed
total rate (--clients connections, --size-byte text messages, --seconds of
sending), and prints per client and rate: CPU-µs per echo (user + system of
the client process, as its parent sees it, divided by the echoes it received), the
achieved receive rate and the p99 latency the client reports. --repeat runs
the whole round several times (interleaved, so drift hits every client alike)
and prints every run, then the median per client and rate.

Clients:
  --load NAME=PATH      a wsbench-load binary (repeatable; e.g. an old build);
                        extra wsbench-load options after a space, e.g.
                        'tick0=build/load/wsbench-load --tick 0'
  --tcpkali PATH        tcpkali built from its public source (../shared/peers),
                        one worker thread, latency from a marker at the start
                        of each message (measured from the write, uncorrected)

    bench/client-cost.py --load new=build/load/wsbench-load \\
        --load old=/tmp/wsbench-load-old --tcpkali /tmp/peers/tcpkali/src/tcpkali \\
        --rates 20000,60000,100000 --seconds 10 --repeat 3
"""

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import servers  # noqa: E402


def run_child(argv):
    """Runs argv; returns (stdout, stderr, exit status, user+system CPU seconds)."""
    r0 = os.times()
    p = subprocess.run(argv, capture_output=True, text=True)
    r1 = os.times()
    cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    return p.stdout, p.stderr, p.returncode, cpu


def load_run(argv, url, rate, a):
    cmd = ["taskset", "-c", str(a.client_cpu)] + argv + [
        "--url", url, "--clients", str(a.clients), "--threads", "1",
        "--rate", f"{rate / a.clients:g}", "--duration", str(a.seconds),
        "--size", str(a.size), "--type", "text", "--json", "--no-progress"]
    out, err, rc, cpu = run_child(cmd)
    r = json.loads(out)
    m = r["errors"]["messages"]
    return {"cpu_s": cpu, "echoes": m["received"], "rate": r["throughput"]["receive_rate"],
            "p99_ms": r["latency"]["corrected"]["p99"],
            "report_us": r["client"]["cpu_us_per_message"],
            "lost": m["lost"], "mismatched": m["mismatched"],
            "client_limited": r["client"]["client_limited"]}


def tcpkali_run(path, port, rate, a):
    msg = "XYZ" + "a" * (a.size - 3)
    cmd = ["taskset", "-c", str(a.client_cpu), path, "--ws", "-w", "1", "-c", str(a.clients),
           "--connect-rate", "100k", "-r", f"{rate / a.clients:g}", "-T", f"{a.seconds}s",
           "-m", msg, "--latency-marker", "XYZ", "--latency-percentiles", "50,99",
           f"127.0.0.1:{port}"]
    out, err, rc, cpu = run_child(cmd)
    text = out + err
    received = int(re.search(r"Total data received:.*\((\d+) bytes", text).group(1))
    dur = float(re.search(r"Test duration: (\S+) s", text).group(1))
    p99 = re.search(r"percentiles: \S+?/(\S+) ms", text)
    echoes = received / (a.size + 2)  # server frames: 2-byte header for < 126 bytes
    return {"cpu_s": cpu, "echoes": echoes, "rate": echoes / dur,
            "p99_ms": float(p99.group(1)) if p99 else None, "report_us": None,
            "lost": None, "mismatched": None, "client_limited": None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--load", action="append", default=[], metavar="NAME=PATH [OPTIONS]")
    ap.add_argument("--tcpkali")
    ap.add_argument("--rates", default="20000,60000,100000")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--size", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--server-cpu", type=int, default=1)
    ap.add_argument("--client-cpu", type=int, default=0)
    ap.add_argument("--out", help="write every run as JSON here")
    a = ap.parse_args()

    clients = []
    for spec in a.load:
        name, _, cmd = spec.partition("=")
        clients.append((name, shlex.split(cmd)))
    if a.tcpkali:
        clients.append(("tcpkali", None))
    if not clients:
        ap.error("nothing to measure: give --load and/or --tcpkali")
    rates = [int(float(x)) for x in a.rates.split(",")]

    srv = servers.ServerProcess("c-lws", ["--threads", "1"]).start()
    subprocess.run(["taskset", "-pc", str(a.server_cpu), str(srv.proc.pid)],
                   stdout=subprocess.DEVNULL, check=True)
    runs = []
    try:
        for rnd in range(a.repeat):
            for rate in rates:
                for name, argv in clients:
                    load = os.getloadavg()[0]
                    if argv is None:
                        r = tcpkali_run(a.tcpkali, srv.port, rate, a)
                    else:
                        r = load_run(argv, srv.url, rate, a)
                    r.update(client=name, offered=rate, round=rnd, loadavg=load,
                             us_per_echo=r["cpu_s"] * 1e6 / r["echoes"] if r["echoes"] else None)
                    runs.append(r)
                    print(f"{name:>10} {rate:>7} msg/s  {r['us_per_echo']:6.2f} µs/echo  "
                          f"{r['rate']:9.0f} msg/s  p99 {r['p99_ms']} ms  "
                          f"(load avg {load:.2f})", flush=True)
                    time.sleep(1)
    finally:
        srv.stop_and_read()

    print("\nmedian of", a.repeat, "run(s):")
    print(f"{'client':>10} {'offered':>8} {'µs/echo':>8} {'achieved':>9} {'p99 ms':>8}")
    for rate in rates:
        for name, _ in clients:
            rs = [r for r in runs if r["client"] == name and r["offered"] == rate]
            p99s = [r["p99_ms"] for r in rs if r["p99_ms"] is not None]
            print(f"{name:>10} {rate:>8} {statistics.median(r['us_per_echo'] for r in rs):8.2f} "
                  f"{statistics.median(r['rate'] for r in rs):9.0f} "
                  f"{statistics.median(p99s) if p99s else float('nan'):8.2f}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(runs, f, indent=1)


if __name__ == "__main__":
    main()
