#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Side-by-side benchmark of the echo servers, in one run.

For each server (c-lws, go-gorilla, rust-tungstenite, node-ws, dotnet-kestrel,
and any --peer):
  1. capacity: the highest total rate at which p99 stays <= --p99-max with
     --clients clients and --size-byte text messages, nothing lost;
  2. fixed rates (--rates, default 20k and 60k msg/s): p50/p99, the server's
     CPU per echo (utime+stime from /proc/PID/stat over the trial, divided by
     the echoes: unlike the saturation rate on 2 cores, this does not depend
     on which side saturates first) and the client's CPU per echo, so that a
     reader can tell the client was not the bottleneck;
  3. many connections (--many N at --many-rate msg/s each): p50/p99 and RSS
     per connection with all of them open;
  4. idle memory: RSS per open idle connection (--idle-connections WebSocket
     connections opened from this script);
  5. start-up time to the READY line (median of 5) and size on disk.

The load comes from wsbench-load (--client wsbench-load, the default; every
echo verified, latency corrected for coordinated omission) or from tcpkali
(--client tcpkali --tcpkali PATH, built beside the project from its public
source, see ../shared/peers; latency from its markers, uncorrected). The
table says which.

By default the server runs on CPU 1 and the load on CPU 0 (taskset), so the
two do not steal each other's core on a 2-core machine. Prints a table and
writes the full JSON to --out.

    bench/compare.py [--servers c-lws,go-gorilla] [--client tcpkali --tcpkali PATH]
                     [--peer 'uws=/tmp/peers/uws/uws-echo {port}'] [--skip capacity,many]
"""

import argparse
import base64
import json
import os
import re
import resource
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import servers  # noqa: E402

PARTS = ("capacity", "fixed", "many", "idle", "startup")


# ---- servers -------------------------------------------------------------

class Peer(servers.ServerProcess):
    """A server outside the project (e.g. a uWebSockets echo) whose command
    takes the port as '{port}' and prints a READY line."""

    def __init__(self, name, template):  # pylint: disable=super-init-not-called
        port = str(servers.free_port())
        self.name, self.env, self.ready_timeout = name, None, 15.0
        self.proc = self.url = self.port = None
        self.argv = [w.replace("{port}", port) for w in shlex.split(template)]


def make_server(name, a, pinned=True, args=()):
    """args: the server's own options (--tls-cert, --deflate); not for peers."""
    srv = Peer(name, a.peers[name]) if name in a.peers else servers.ServerProcess(name, args)
    if a.pin and pinned:
        srv.argv = ["taskset", "-c", "1"] + srv.argv
    return srv


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n)), hard))


# ---- load clients -----------------------------------------------------------
# A trial: clients, total rate, seconds. Both clients return the same dict:
# received, lost, p50_ms, p99_ms, client_cpu_s, client_limited, verdict.

def pinned(cmd, a):
    return (["taskset", "-c", "0"] + cmd) if a.pin else cmd


def trial_wsbench_load(url, a, clients, rate, seconds, warmup=1.0, extra=()):
    """extra: more wsbench-load options (--ca, --deflate, --payload)."""
    cmd = [os.path.join(servers.build_dir(), "load", "wsbench-load"), "--url", url,
           "--clients", str(clients), "--size", str(a.size), "--type", "text",
           "--threads", "1" if a.pin else "0", "--rate", str(rate / clients),
           "--duration", str(seconds), "--warmup", str(warmup), "--ramp-up", str(a.ramp(clients)),
           "--json", "--no-progress"] + list(extra)
    if clients > 20000:
        cmd += ["--source-addresses", "auto"]
    p = subprocess.run(pinned(cmd, a), capture_output=True, text=True, timeout=3600)
    if not p.stdout.strip():
        raise RuntimeError(f"wsbench-load printed nothing: {p.stderr.strip()[-300:]}")
    r = json.loads(p.stdout)
    lat = r["latency"]["corrected"]
    return {"received": r["throughput"]["messages_received"],
            "lost": r["errors"]["messages"]["lost"] + r["errors"]["messages"]["corrupted"],
            "established": r["errors"]["connections"]["established"],
            "p50_ms": lat["p50"], "p99_ms": lat["p99"],
            "client_cpu_s": r["client"]["cpu_seconds"],
            "client_limited": r["client"]["client_limited"], "verdict": r["client"]["verdict"],
            "wire_bytes_sent": r["throughput"].get("wire_bytes_per_message_sent"),
            "wire_bytes_received": r["throughput"].get("wire_bytes_per_message_received"),
            "deflate_accepted": r.get("deflate"), "tls": r.get("tls"),
            "upgrade_p99_ms": r["latency"].get("upgrade", {}).get("p99"),
            "ramp_achieved_per_s": (r.get("ramp") or {}).get("achieved_per_s"),
            "client_cpu_percent": r["client"].get("cpu_percent_mean")}


def trial_tcpkali(url, a, clients, rate, seconds, warmup=1.0, extra=()):
    """tcpkali sends --size-byte messages carrying its latency marker; the
    echo carries it back. Counts come from its byte totals (of WebSocket
    bytes, before TLS). A wss:// URL adds --ssl (tcpkali does not verify the
    certificate); extra: more tcpkali options."""
    host_port = url.split("//", 1)[1].rstrip("/")
    marker = "wsbench-marker"
    message = marker + "x" * max(0, a.size - len(marker))
    ramp = a.ramp(clients)
    cmd = [a.tcpkali, "--ws", "-c", str(clients), "-r", f"{rate / clients:g}",
           "--connect-rate", str(max(100, int(clients / ramp) if ramp else 100000)),
           "-m", message, "--latency-marker", marker, "--latency-percentiles", "50,99",
           "-T", f"{seconds + warmup + ramp:g}s", host_port] + list(extra)
    if url.startswith("wss://"):
        cmd[1:1] = ["--ssl"]
    if clients > 20000:
        cmd[1:1] = ["--source-ip", ",".join(f"127.0.0.{i}" for i in range(1, 1 + clients // 20000 + 1))]
    t0 = os.times()
    p = subprocess.run(pinned(cmd, a), capture_output=True, text=True, timeout=3600)
    t1 = os.times()
    out = p.stdout + p.stderr
    m = re.search(r"Message latency at percentiles: ([\d.]+)/([\d.]+) ms", out)
    sent = re.search(r"Total data sent:.*\((\d+) bytes\)", out)
    recv = re.search(r"Total data received:.*\((\d+) bytes\)", out)
    if not (m and sent and recv):
        raise RuntimeError(f"tcpkali: unexpected output: {out.strip()[-300:]}")
    frame = a.size + (2 if a.size < 126 else 4)
    sent_msgs = int(sent.group(1)) // (frame + 4)  # client frames carry a mask key
    received = int(recv.group(1)) // frame
    return {"received": received, "lost": max(0, sent_msgs - received),
            "established": clients if "Ramped up to" in out else 0,
            "p50_ms": float(m.group(1)), "p99_ms": float(m.group(2)),
            "client_cpu_s": (t1.children_user - t0.children_user)
            + (t1.children_system - t0.children_system),
            "client_limited": None, "verdict": "tcpkali: not judged"}


def run_trial(srv, a, clients, rate, seconds, extra=(), client=None, url=None):
    """One trial with server CPU and RSS sampled around it. client: the
    load client for this trial (default a.client); url: the server's URL
    as the client should name it (default srv.url)."""
    client = client or a.client
    trial = trial_tcpkali if client == "tcpkali" else trial_wsbench_load
    pid = srv.proc.pid
    cpu0, rss0 = servers.cpu_seconds(pid), servers.rss_bytes(pid)
    r = trial(url or srv.url, a, clients, rate, seconds, extra=extra)
    r["server_cpu_s"] = servers.cpu_seconds(pid) - cpu0
    r["server_rss_before"], r["server_rss_after"] = rss0, servers.rss_bytes(pid)
    n = max(r["received"], 1)
    r["server_cpu_us_per_echo"] = r["server_cpu_s"] * 1e6 / n
    r["client_cpu_us_per_echo"] = r["client_cpu_s"] * 1e6 / n
    r["rate"], r["clients"] = rate, clients
    return r


# ---- the parts ---------------------------------------------------------------

def capacity(name, a):
    """Doubles the rate from --start-rate while trials pass, then bisects to
    5%: a trial passes with p99 <= --p99-max, nothing lost (wsbench-load
    verifies every echo; tcpkali leaves up to one per connection in flight
    when it stops), the server alive."""
    bound = a.p99_max_ms
    trials, lo, hi = [], 0.0, None
    rate = a.start_rate
    with make_server(name, a) as srv:
        while rate <= a.max_rate:
            r = run_trial(srv, a, a.clients, rate, a.trial_seconds)
            # tcpkali stops without waiting for its last echoes: up to one
            # in flight per connection is not a loss.
            allowed = a.clients if a.client == "tcpkali" else 0
            r["pass"] = r["p99_ms"] <= bound and r["lost"] <= allowed and srv.alive()
            trials.append(r)
            if not srv.alive():
                break
            if r["pass"]:
                lo = rate
                if hi is None:
                    rate *= 2
                    continue
            else:
                hi = rate
            if hi is not None and (hi - lo) / hi <= 0.05:
                break
            if hi is not None and hi < a.start_rate / 64:
                break  # fails even at a trickle: report 0
            rate = (lo + hi) / 2 if hi is not None else rate
        alive = srv.alive()
    return {"max_rate": lo, "upper_bound_reached": hi is None, "trials": trials,
            "server_survived": alive}


def fixed_rates(name, a):
    out = []
    with make_server(name, a) as srv:
        for rate in a.rates:
            out.append(run_trial(srv, a, a.clients, rate, a.fixed_seconds))
    return out


def many_connections(name, a):
    raise_nofile(a.many + 1024)
    with make_server(name, a) as srv:
        r = run_trial(srv, a, a.many, a.many * a.many_rate, a.many_seconds)
    r["rss_per_connection"] = (r["server_rss_after"] - r["server_rss_before"]) / a.many
    return r


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
    raise_nofile(a.idle_connections + 256)  # one descriptor per idle connection
    with make_server(name, a) as srv:
        time.sleep(0.5)
        before = servers.rss_bytes(srv.proc.pid)
        socks = open_idle(srv.port, a.idle_connections)
        time.sleep(1.0)  # let the server settle (lazy allocations, GC)
        after = servers.rss_bytes(srv.proc.pid)
        for s in socks:
            s.close()
    return {"connections": a.idle_connections, "rss_before": before, "rss_after": after,
            "bytes_per_connection": (after - before) / a.idle_connections}


def startup(name, a):
    times = []
    for _ in range(5):
        t0 = time.monotonic()
        with make_server(name, a, pinned=False):
            times.append(time.monotonic() - t0)
    return {"median_ms": statistics.median(times) * 1000, "all_ms": [t * 1000 for t in times]}


def disk_size(name, a):
    """Bytes on disk of what the server runs: the program (or launcher and
    application tree); shared libraries and language runtimes not counted."""
    path = shlex.split(a.peers[name])[0] if name in a.peers else servers.server_command(name)[0]
    total = os.path.getsize(path)
    for root, _, files in os.walk(path + ".app"):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files
                     if not os.path.islink(os.path.join(root, f)))
    return total


# ---- output ------------------------------------------------------------------

def fmt(v, spec=".2f", none="-"):
    return none if v is None else format(v, spec)


def print_table(results, a):
    base = results["servers"].get("c-lws", {})
    print(f"\nclient: {a.client}; {a.clients} clients, {a.size} B text"
          f"{'; server on CPU 1, load on CPU 0' if a.pin else ''}; p99 bound {a.p99_max}")
    cols = ["server", "max rate", "vs c-lws"]
    for rate in a.rates:
        k = f"{rate / 1000:g}k"
        cols += [f"p99@{k}", f"srv us@{k}", f"cli us@{k}"]
    cols += [f"p50/p99@{a.many}", "KiB/conn", "KiB/idle", "start ms", "MiB", "limited"]
    rows = [cols]
    for name, r in results["servers"].items():
        cap = r.get("capacity")
        row = [name, fmt(cap and cap["max_rate"], ".0f") + ("+" if cap and cap["upper_bound_reached"] else ""),
               fmt(cap["max_rate"] / base["capacity"]["max_rate"], ".2f") + "x"
               if cap and base.get("capacity") and base["capacity"]["max_rate"] else "-"]
        limited = False
        for f in r.get("fixed") or [None] * len(a.rates):
            row += [fmt(f and f["p99_ms"]), fmt(f and f["server_cpu_us_per_echo"], ".1f"),
                    fmt(f and f["client_cpu_us_per_echo"], ".1f")]
            limited |= bool(f and f["client_limited"])
        m = r.get("many")
        row += [f"{m['p50_ms']:.2f}/{m['p99_ms']:.2f}" if m else "-",
                fmt(m and m["rss_per_connection"] / 1024)]
        row += [fmt(r.get("idle") and r["idle"]["bytes_per_connection"] / 1024),
                fmt(r.get("startup") and r["startup"]["median_ms"], ".0f"),
                fmt(r["size_bytes"] / 2**20, ".1f")]
        if cap:
            limited |= any(t["client_limited"] for t in cap["trials"] if t["pass"])
        row.append("n/a" if a.client == "tcpkali" else ("yes" if limited else "no"))
        rows.append(row)
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(cols))]
    for row in rows:
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--servers", default=",".join(servers.SERVER_NAMES))
    p.add_argument("--peer", action="append", default=[], metavar="NAME=COMMAND",
                   help="an outside server, e.g. 'uws=/tmp/peers/uws/uws-echo {port}'")
    p.add_argument("--client", choices=("wsbench-load", "tcpkali"), default="wsbench-load")
    p.add_argument("--tcpkali", default=os.environ.get("TCPKALI") or shutil.which("tcpkali"))
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--p99-max", default="10ms")
    p.add_argument("--trial-seconds", type=float, default=3)
    p.add_argument("--start-rate", type=float, default=10000)
    p.add_argument("--max-rate", type=float, default=400000)
    p.add_argument("--rates", default="20000,60000", help="fixed total rates, msg/s")
    p.add_argument("--fixed-seconds", type=float, default=5)
    p.add_argument("--many", type=int, default=9500)
    p.add_argument("--many-rate", type=float, default=0.2, help="msg/s per connection")
    p.add_argument("--many-seconds", type=float, default=20)
    p.add_argument("--idle-connections", type=int, default=5000)
    p.add_argument("--skip", default="", help=f"parts to leave out: {','.join(PARTS)}")
    p.add_argument("--no-pin", dest="pin", action="store_false")
    p.add_argument("--out", default=os.path.join(servers.build_dir(), "bench-compare.json"))
    a = p.parse_args()
    if a.pin and (not shutil.which("taskset") or os.cpu_count() < 2):
        a.pin = False
    a.peers = {}
    for spec in a.peer:
        name, _, cmd = spec.partition("=")
        if not cmd or "{port}" not in cmd:
            p.error(f"--peer {spec!r}: want NAME=COMMAND with {{port}} in the command")
        a.peers[name] = cmd
    a.rates = [float(r) for r in a.rates.split(",") if r]
    a.skip = {s for s in a.skip.split(",") if s}
    if a.skip - set(PARTS):
        p.error(f"--skip: unknown part(s) {', '.join(sorted(a.skip - set(PARTS)))}")
    m = re.fullmatch(r"([\d.]+)\s*(ms|s)?", a.p99_max)
    if not m:
        p.error(f"--p99-max: not a duration: {a.p99_max!r}")
    a.p99_max_ms = float(m.group(1)) * (1000 if m.group(2) == "s" else 1)
    if a.client == "tcpkali" and not (a.tcpkali and os.access(a.tcpkali, os.X_OK)):
        p.error("--client tcpkali: no tcpkali (give --tcpkali PATH or set TCPKALI)")
    # Connections open at 2,000/s, as the many-connection runs did.
    a.ramp = lambda clients: round(clients / 2000, 2) if clients > 200 else 0
    a.names = [n for n in a.servers.split(",") if n] + list(a.peers)
    missing = [n for n in a.names if n not in a.peers and n not in servers.available_servers()]
    if missing:
        p.error(f"--servers: not built: {', '.join(missing)}")
    return a


def main():
    a = parse_args()
    results = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "client": a.client,
               "clients": a.clients, "size": a.size, "p99_max": a.p99_max, "pinned": a.pin,
               "servers": {}}
    for name in a.names:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        r = {"size_bytes": disk_size(name, a)}
        for part, measure in (("startup", startup), ("idle", idle_memory), ("fixed", fixed_rates),
                              ("many", many_connections), ("capacity", capacity)):
            if part in a.skip:
                continue
            try:
                r[part] = measure(name, a)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                # One server's failure is a result, not the end of the run.
                print(f"bench: {name}: {part} failed: {e}", file=sys.stderr)
                r.setdefault("errors", {})[part] = str(e)
        results["servers"][name] = r
    with open(a.out + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(a.out + ".tmp", a.out)
    print_table(results, a)
    print(f"\nfull results: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
