#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Side-by-side benchmark of the four echo servers, in one run.

For each server (c-lws, go-gorilla, rust-tungstenite, node-ws):
  1. the highest total rate at which p99 (corrected) stays <= --p99-max with
     --clients clients and --size-byte text messages (wsbench-load
     --find-max-rate), and
  2. wsbench-load's own CPU cost per 100k messages at a fixed --cost-rate,
     so that a reader can tell the client was not the bottleneck.

By default the server runs on CPU 1 and the load on CPU 0 (taskset), so the
two do not steal each other's core on a 2-core machine. Prints a table and
writes the full JSON to --out.

    bench/compare.py [--servers c-lws,go-gorilla] [--clients 100] [--p99-max 10ms]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import servers  # noqa: E402


def load_cmd(args, pin):
    cmd = [os.path.join(servers.build_dir(), "load", "wsbench-load")] + args
    return (["taskset", "-c", "0"] + cmd) if pin else cmd


def start_server(name, pin):
    srv = servers.ServerProcess(name)
    if pin:
        srv.argv = ["taskset", "-c", "1"] + srv.argv
    return srv.start()


def find_max(name, a):
    with start_server(name, a.pin) as srv:
        p = subprocess.run(load_cmd(["--url", srv.url, "--clients", str(a.clients),
                                     "--size", str(a.size), "--type", "text",
                                     "--threads", "1" if a.pin else "0",
                                     "--find-max-rate", "--p99-max", a.p99_max,
                                     "--search-duration", str(a.trial_seconds),
                                     "--rate", str(a.start_rate / a.clients),
                                     "--max-rate", str(a.max_rate), "--json"], a.pin),
                           capture_output=True, text=True, timeout=1800)
        alive = srv.alive()
    if not p.stdout.strip():
        raise RuntimeError(f"{name}: wsbench-load printed nothing: {p.stderr.strip()}")
    r = json.loads(p.stdout)
    r["server_survived"] = alive
    return r


def client_cost(name, a):
    with start_server(name, a.pin) as srv:
        duration = 100000 / a.cost_rate
        p = subprocess.run(load_cmd(["--url", srv.url, "--clients", str(a.clients),
                                     "--size", str(a.size), "--type", "text",
                                     "--threads", "1" if a.pin else "0",
                                     "--rate", str(a.cost_rate / a.clients),
                                     "--duration", str(duration), "--warmup", "1",
                                     "--json", "--no-progress"], a.pin),
                           capture_output=True, text=True, timeout=600)
    r = json.loads(p.stdout)
    received = r["throughput"]["messages_received"]
    return {
        "rate": a.cost_rate,
        "received": received,
        "cpu_seconds": r["client"]["cpu_seconds"],
        "cpu_seconds_per_100k": r["client"]["cpu_seconds"] * 100000 / max(received, 1),
        "p99_ms": r["latency"]["corrected"]["p99"],
        "client_limited": r["client"]["client_limited"],
        "verdict": r["client"]["verdict"],
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--servers", default=",".join(servers.SERVER_NAMES))
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--p99-max", default="10ms")
    p.add_argument("--trial-seconds", type=float, default=3)
    p.add_argument("--start-rate", type=float, default=10000)
    p.add_argument("--max-rate", type=float, default=400000)
    p.add_argument("--cost-rate", type=float, default=20000)
    p.add_argument("--no-pin", dest="pin", action="store_false")
    p.add_argument("--out", default=os.path.join(servers.build_dir(), "bench-compare.json"))
    a = p.parse_args()
    if a.pin and (not shutil.which("taskset") or os.cpu_count() < 2):
        a.pin = False

    names = [n for n in a.servers.split(",") if n]
    missing = [n for n in names if n not in servers.available_servers()]
    if missing:
        p.error(f"--servers: not built: {', '.join(missing)}")
    results = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "clients": a.clients,
               "size": a.size, "p99_max": a.p99_max, "pinned": a.pin, "servers": {}}
    for name in names:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        search = find_max(name, a)
        cost = client_cost(name, a)
        results["servers"][name] = {"max_rate": search["max_rate"],
                                    "upper_bound_reached": search["upper_bound_reached"],
                                    "trials": search["trials"], "client_cost": cost,
                                    "server_survived": search["server_survived"]}
    with open(a.out + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(a.out + ".tmp", a.out)

    base = results["servers"].get("c-lws", {}).get("max_rate") or 0
    print(f"\n{a.clients} clients, {a.size} B text, p99 <= {a.p99_max}"
          f"{', server on CPU 1 and load on CPU 0' if a.pin else ''}")
    print(f"{'server':<18}{'max rate msg/s':>16}{'vs c-lws':>10}{'p99 at max':>12}"
          f"{'load CPU s/100k':>17}{'client-limited':>16}")
    for name, r in results["servers"].items():
        best = [t for t in r["trials"] if t["pass"] and t["target_rate"] == r["max_rate"]]
        p99 = f"{best[0]['p99_ms']:.2f} ms" if best else "-"
        ratio = f"{r['max_rate'] / base:.2f}x" if base else "-"
        limited = any(t["client_limited"] for t in r["trials"] if t["pass"])
        bound = "+" if r["upper_bound_reached"] else ""
        print(f"{name:<18}{r['max_rate']:>15.0f}{bound:1}{ratio:>10}{p99:>12}"
              f"{r['client_cost']['cpu_seconds_per_100k']:>17.2f}"
              f"{'yes' if limited or r['client_cost']['client_limited'] else 'no':>16}")
    print(f"\nfull results: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
