#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A long run at scale, counted on both sides (issue 11).

Starts `wsbench-echo --stats` pinned to --server-cpu, runs wsbench-load with
--clients clients at --rate msg/s each for --seconds (opened over --ramp-up
seconds) pinned to --client-cpu, stops the server with SIGTERM and compares
the report's counts with the server's own: messages the client sent with the
server's "received", the client's "received" with the server's "echoed",
established connections with the server's "connections" and "closed".
Also prints the ramp-up's achieved connection rate, connect latency and the
client's RSS per idle connection (a second run with the same connections at
0.01 msg/s, RSS read before the first message, minus a run with one).

    bench/long-run.py                                  # 10,000 x 10 msg/s x 300 s
    bench/long-run.py --clients 500 --seconds 5 --json # what the test runs

Exit status: 0 when the counts agree and nothing was lost or failed, 1 if not.
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("WSBENCH_BUILD_DIR", os.path.join(HERE, "..", "build"))

# One source address reaches one server port through ~28,000 ephemeral
# ports, and the connections of the previous run wait 60 s in TIME_WAIT on
# the same ones (measured: after a 10,000- and a failed 19,000-client run,
# 41,851 of them, and the next run's connects failed by the thousand). So
# from 5,000 clients the script spreads sources over 127.0.0.x.
SOURCES_FROM = 5000


def pinned(cpu, argv):
    return (["taskset", "-c", str(cpu)] if cpu >= 0 else []) + argv


def start_server(a):
    argv = pinned(a.server_cpu, [a.echo, "--port", "0", "--stats", "--threads",
                                 str(a.server_threads)])
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("READY "):
        p.kill()
        raise SystemExit(f"wsbench-echo did not start: {line!r} {p.stderr.read()[:500]}")
    return p, line.split()[1]


def stop_server(p):
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=30)
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise SystemExit(f"wsbench-echo printed no counts: {out[:500]!r}")


def load_argv(a, url, clients, rate, seconds):
    argv = [a.load, "--url", url, "--clients", str(clients), "--rate", f"{rate:g}",
            "--duration", f"{seconds:g}", "--ramp-up", f"{a.ramp_up:g}",
            "--threads", str(a.client_threads), "--json", "--no-progress"]
    if clients >= SOURCES_FROM:
        argv += ["--source-addresses", "auto"]
    return pinned(a.client_cpu, argv)


def idle_rss_per_connection(a, url):
    """RSS of wsbench-load with --clients idle connections open, minus one
    with 1, divided by the difference: user memory per idle connection."""
    def rss_with(n):
        # 0.01 msg/s: the first message comes after the sample is taken.
        p = subprocess.Popen(load_argv(a, url, n, 0.01, a.idle_seconds + 5),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(a.ramp_up + a.idle_seconds)
        with open(f"/proc/{p.pid}/status") as f:
            rss = next(int(x.split()[1]) * 1024 for x in f if x.startswith("VmRSS:"))
        p.kill()
        p.wait()
        return rss

    small, big = rss_with(1), rss_with(a.clients)
    return (big - small) / max(a.clients - 1, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=10.0, help="msg/s per client")
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--ramp-up", type=float, default=5.0)
    ap.add_argument("--client-threads", type=int, default=1)
    ap.add_argument("--server-threads", type=int, default=1)
    ap.add_argument("--client-cpu", type=int, default=0, help="-1: not pinned")
    ap.add_argument("--server-cpu", type=int, default=1, help="-1: not pinned")
    ap.add_argument("--idle-seconds", type=float, default=2.0)
    ap.add_argument("--no-idle", action="store_true", help="skip the idle RSS run")
    ap.add_argument("--echo", default=os.path.join(BUILD, "echo", "wsbench-echo"))
    ap.add_argument("--load", default=os.path.join(BUILD, "load", "wsbench-load"))
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    a = ap.parse_args()

    need = a.clients + 200
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))

    server, url = start_server(a)
    try:
        p = subprocess.run(load_argv(a, url, a.clients, a.rate, a.seconds),
                           capture_output=True, text=True,
                           timeout=a.ramp_up + a.seconds + 120)
    finally:
        counts = stop_server(server)
    if not p.stdout.strip():
        raise SystemExit(f"wsbench-load printed no result (exit {p.returncode}): "
                         f"{p.stderr[-1000:]}")
    r = json.loads(p.stdout)
    m, c = r["errors"]["messages"], r["errors"]["connections"]
    errors = (c["failed"] + c["dropped"] + m["corrupted"] + m["unexpected"]
              + m["not_sent"])
    checks = {
        "sent == server received": m["sent"] == counts["received"],
        "received == server echoed": m["received"] == counts["echoed"],
        "established == server connections": c["established"] == counts["connections"],
        "server closed all": counts["closed"] == counts["connections"],
        "lost == 0": m["lost"] == 0,
        "errors == 0": errors == 0,
    }
    ramp = r.get("ramp", {})
    fig = {
        "clients": a.clients, "rate_per_client": a.rate, "seconds": a.seconds,
        "client": {"sent": m["sent"], "received": m["received"], "lost": m["lost"],
                   "errors": errors, "exit": p.returncode,
                   "verdict": r["client"]["verdict"],
                   "cpu_us_per_message": r["client"]["cpu_us_per_message"],
                   "p99_ms": r["latency"]["corrected"]["p99"]},
        "server": counts,
        "ramp": {"configured_per_s": ramp.get("configured_per_s"),
                 "achieved_per_s": ramp.get("achieved_per_s"),
                 "attempt_lag_p99_ms": ramp.get("attempt_lag_ms", {}).get("p99"),
                 "tcp_connect_p99_ms": r["latency"].get("tcp_connect", {}).get("p99"),
                 "upgrade_p99_ms": r["latency"]["upgrade"]["p99"]},
        "checks": checks,
        "load1": os.getloadavg()[0],
    }
    if not a.no_idle:
        server, url = start_server(a)
        try:
            fig["rss_per_idle_connection_bytes"] = idle_rss_per_connection(a, url)
        finally:
            stop_server(server)
    ok = all(checks.values())
    fig["verdict"] = "COUNTS AGREE" if ok else "COUNTS DIFFER: " + ", ".join(
        k for k, v in checks.items() if not v)
    if a.json:
        print(json.dumps(fig, indent=1))
    else:
        print(fig["verdict"])
        print(f"client: sent {m['sent']} received {m['received']} lost {m['lost']} "
              f"errors {errors} (exit {p.returncode}); {r['client']['verdict']}")
        print(f"server: {json.dumps(counts)}")
        rr = fig["ramp"]
        print(f"ramp: {rr['achieved_per_s']:.0f} connections/s achieved against "
              f"{rr['configured_per_s']} configured; attempt lag p99 "
              f"{rr['attempt_lag_p99_ms']} ms; tcp_connect p99 {rr['tcp_connect_p99_ms']} ms, "
              f"upgrade p99 {rr['upgrade_p99_ms']} ms")
        if "rss_per_idle_connection_bytes" in fig:
            print(f"client RSS per idle connection: "
                  f"{fig['rss_per_idle_connection_bytes'] / 1024:.2f} KiB")
        print(f"load average (1 min) at the end: {fig['load1']:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
