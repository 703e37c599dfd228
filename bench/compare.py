#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Side-by-side benchmark of the echo servers, in one run.

For each server (c-lws, go-gorilla, rust-tungstenite, node-ws, dotnet-kestrel):
  1. capacity: the highest total rate at which p99 (corrected) stays <=
     --p99-max with --clients clients and --size-byte text messages
     (wsbench-load --find-max-rate);
  2. fixed rate: at --cost-rate msg/s, the corrected p99, the server's CPU
     per echo (utime+stime from /proc/PID/stat over the run, divided by the
     echoes received: unlike the saturation rate on 2 cores, this does not
     depend on which side saturates first) and wsbench-load's own CPU per
     echo, so that a reader can tell the client was not the bottleneck;
  3. idle memory: RSS per open idle connection (--idle-connections
     WebSocket connections, opened from this script, RSS before and after);
  4. start-up time to the READY line (median of 5) and size on disk.

By default the server runs on CPU 1 and the load on CPU 0 (taskset), so the
two do not steal each other's core on a 2-core machine. Prints a table and
writes the full JSON to --out.

    bench/compare.py [--servers c-lws,go-gorilla] [--clients 100] [--p99-max 10ms]
"""

import argparse
import base64
import json
import os
import resource
import shutil
import socket
import statistics
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


def cpu_seconds(pid):
    """utime + stime of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def fixed_rate(name, a):
    with start_server(name, a.pin) as srv:
        duration = max(5.0, 100000 / a.cost_rate)
        cpu0 = cpu_seconds(srv.proc.pid)
        p = subprocess.run(load_cmd(["--url", srv.url, "--clients", str(a.clients),
                                     "--size", str(a.size), "--type", "text",
                                     "--threads", "1" if a.pin else "0",
                                     "--rate", str(a.cost_rate / a.clients),
                                     "--duration", str(duration), "--warmup", "1",
                                     "--json", "--no-progress"], a.pin),
                           capture_output=True, text=True, timeout=600)
        server_cpu = cpu_seconds(srv.proc.pid) - cpu0
    r = json.loads(p.stdout)
    received = max(r["throughput"]["messages_received"], 1)
    return {
        "rate": a.cost_rate,
        "received": received,
        "lost": r["errors"]["messages"]["lost"],
        "p99_ms": r["latency"]["corrected"]["p99"],
        "server_cpu_seconds": server_cpu,
        "server_cpu_us_per_echo": server_cpu * 1e6 / received,
        "client_cpu_seconds": r["client"]["cpu_seconds"],
        "client_cpu_us_per_echo": r["client"]["cpu_seconds"] * 1e6 / received,
        "client_limited": r["client"]["client_limited"],
        "verdict": r["client"]["verdict"],
    }


def open_idle(port, n):
    """Opens n WebSocket connections (handshake completed) and returns them."""
    socks = []
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode()
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(request)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError("closed during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"handshake refused: {head[:80]!r}")
        socks.append(s)
    return socks


def idle_memory(name, a):
    # Each idle connection costs this script one descriptor.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, a.idle_connections + 256)),
                                                hard))
    with start_server(name, a.pin) as srv:
        time.sleep(0.5)
        before = rss_bytes(srv.proc.pid)
        socks = open_idle(srv.port, a.idle_connections)
        time.sleep(1.0)  # let the server settle (lazy allocations, GC)
        after = rss_bytes(srv.proc.pid)
        for s in socks:
            s.close()
    return {"connections": a.idle_connections, "rss_before": before, "rss_after": after,
            "bytes_per_connection": (after - before) / a.idle_connections}


def startup(name):
    times = []
    for _ in range(5):
        t0 = time.monotonic()
        with servers.ServerProcess(name):
            times.append(time.monotonic() - t0)
    return {"median_ms": statistics.median(times) * 1000, "all_ms": [t * 1000 for t in times]}


def disk_size(name):
    """Bytes on disk of what the server runs: the program (or launcher and
    application tree); shared libraries and language runtimes not counted."""
    path = servers.server_command(name)[0]
    total = os.path.getsize(path)
    app = path + ".app"
    for root, _, files in os.walk(app):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files
                     if not os.path.islink(os.path.join(root, f)))
    return total


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
    p.add_argument("--idle-connections", type=int, default=5000)
    p.add_argument("--skip-capacity", action="store_true",
                   help="skip the max-rate search (the longest part)")
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
        r = {"size_bytes": disk_size(name), "startup": startup(name),
             "idle": idle_memory(name, a), "fixed_rate": fixed_rate(name, a)}
        if not a.skip_capacity:
            search = find_max(name, a)
            r.update({"max_rate": search["max_rate"],
                      "upper_bound_reached": search["upper_bound_reached"],
                      "trials": search["trials"], "server_survived": search["server_survived"]})
        results["servers"][name] = r
    with open(a.out + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(a.out + ".tmp", a.out)
    print_table(results, a)
    print(f"\nfull results: {a.out}")
    return 0


def print_table(results, a):
    base = results["servers"].get("c-lws", {})
    print(f"\n{a.clients} clients, {a.size} B text"
          f"{', server on CPU 1 and load on CPU 0' if a.pin else ''}; "
          f"fixed rate {a.cost_rate:.0f} msg/s; {a.idle_connections} idle connections")
    print(f"{'server':<17}{'max rate':>10}{'vs c-lws':>9}{'p99@max':>9}"
          f"{'p99@fixed':>10}{'srv us/echo':>12}{'vs c-lws':>9}{'load us/echo':>13}"
          f"{'KiB/idle conn':>14}{'start ms':>9}{'size MiB':>9}{'client-limited':>15}")
    for name, r in results["servers"].items():
        fx = r["fixed_rate"]
        limited = fx["client_limited"]
        if "max_rate" in r:
            best = [t for t in r["trials"] if t["pass"] and t["target_rate"] == r["max_rate"]]
            p99max = f"{best[0]['p99_ms']:.2f}" if best else "-"
            rate = f"{r['max_rate']:.0f}{'+' if r['upper_bound_reached'] else ''}"
            ratio = f"{r['max_rate'] / base['max_rate']:.2f}x" if base.get("max_rate") else "-"
            limited = limited or any(t["client_limited"] for t in r["trials"] if t["pass"])
        else:
            rate, ratio, p99max = "-", "-", "-"
        base_cpu = base.get("fixed_rate", {}).get("server_cpu_us_per_echo")
        cpu_ratio = f"{fx['server_cpu_us_per_echo'] / base_cpu:.2f}x" if base_cpu else "-"
        print(f"{name:<17}{rate:>10}{ratio:>9}{p99max:>9}{fx['p99_ms']:>10.2f}"
              f"{fx['server_cpu_us_per_echo']:>12.1f}{cpu_ratio:>9}"
              f"{fx['client_cpu_us_per_echo']:>13.1f}"
              f"{r['idle']['bytes_per_connection'] / 1024:>14.2f}"
              f"{r['startup']['median_ms']:>9.0f}{r['size_bytes'] / 2**20:>9.1f}"
              f"{'yes' if limited else 'no':>15}")


if __name__ == "__main__":
    sys.exit(main())
