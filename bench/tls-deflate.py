#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What TLS and permessage-deflate cost each server, side by side (issue 19).

For each TLS-capable server built here (c-lws, go-gorilla, node-ws,
dotnet-kestrel), one server process per mode, --clients clients at --rate
msg/s in all, for each message size (--sizes, default 64 B and 4 KiB):
  ws              plain ws://, the baseline
  wss             wss:// (TLS 1.3, verified against a throwaway CA)
  deflate-text    ws:// with permessage-deflate, pseudo-English payloads
  deflate-random  ws:// with permessage-deflate, random (incompressible) payloads
Each trial gives the server's CPU per echo (utime+stime from /proc/PID/stat),
p99 (corrected), the client's CPU per echo and the bytes on the wire per
message both ways; the table shows CPU and p99 as ratios to the same
server's ws:// at the same size.

Then:
  handshakes  the highest rate of new connections per second (--ramp-seconds
              of ramp-up) at which the TLS handshake's p99 stays <= 50 ms
              and every connection is established; for ws:// the same with
              the WebSocket upgrade's p99, for reference;
  client      wsbench-load's own TLS cost against tcpkali --ssl (built
              beside the project from its public source, ../shared/peers):
              client CPU per echo over ws:// and wss:// to c-lws, one
              client after the other against the same server process.

The server runs on CPU 1 and the load on CPU 0. Nothing else should run.
The certificate comes from a throwaway CA made with openssl for this run.

    bench/tls-deflate.py [--servers c-lws,go-gorilla] [--tcpkali PATH] [--skip handshakes]
"""

import argparse
import copy
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import compare  # noqa: E402
import servers  # noqa: E402
from pki import make_pki  # noqa: E402

TLS_SERVERS = ("c-lws", "go-gorilla", "node-ws", "dotnet-kestrel")
MODES = ("ws", "wss", "deflate-text", "deflate-random")
PARTS = ("modes", "handshakes", "client")
HANDSHAKE_P99_MS = 50.0
OVERLOAD_P99_MS = 100.0


class Setup:
    """The server's and the client's options for each mode."""

    def __init__(self, pki_dir):
        self.ca, self.cert, self.key = make_pki(pki_dir)

    def server_args(self, mode):
        if mode.startswith("wss"):
            return ["--tls-cert", self.cert, "--tls-key", self.key]
        return ["--deflate"] if mode.startswith("deflate") else []

    def client_args(self, mode):
        if mode == "wss":
            return ["--ca", self.ca]
        if mode.startswith("deflate"):
            return ["--deflate", "--payload", mode.split("-", 1)[1]]
        return []


def with_size(a, size):
    b = copy.copy(a)
    b.size = size
    return b


# ---- modes ---------------------------------------------------------------------

def held(r):
    """The server kept up: everything echoed, p99 within OVERLOAD_P99_MS,
    the client not the limit, the server alive."""
    return (r["lost"] == 0 and r["received"] > 0 and r["p99_ms"] <= OVERLOAD_P99_MS
            and not r["client_limited"] and r["server_alive"])


def modes(name, a, setup):
    """{mode: {size: [trial at a.rate, then lower rates ...]}} for one
    server. A mode that does not hold a.rate (4 KiB compressed at 20k msg/s
    is more than most servers, or the client, can do on one core) is tried
    again at a quarter and at a twentieth of it; ws:// is always measured
    at all three, so that every ratio compares like with like."""
    out = {}
    for mode in MODES:
        out[mode] = {}
        try:
            with compare.make_server(name, a, args=setup.server_args(mode)) as srv:
                for size in a.sizes:
                    trials = out[mode][size] = []
                    for rate in (a.rate, a.rate / 4, a.rate / 20):
                        r = compare.run_trial(srv, with_size(a, size), a.clients, rate,
                                              a.seconds, extra=setup.client_args(mode),
                                              client="wsbench-load")
                        r["server_alive"] = srv.alive()
                        r["held"] = held(r)
                        trials.append(r)
                        if (r["held"] and mode != "ws") or not srv.alive():
                            break
        except (RuntimeError, OSError) as e:
            print(f"bench: {name} {mode}: {e}", file=sys.stderr)
            out[mode]["error"] = str(e)
    return out


# ---- handshakes ------------------------------------------------------------------

def ramp_trial(srv, a, scheme, rate, setup):
    """rate new connections per second for a.ramp_seconds; each client sends
    one message a second until the end."""
    clients = max(1, int(rate * a.ramp_seconds))
    b = copy.copy(a)
    b.size = 64
    b.ramp = lambda _n: a.ramp_seconds
    pid = srv.proc.pid
    cpu0 = servers.cpu_seconds(pid)
    r = compare.trial_wsbench_load(srv.url, b, clients, clients, 1, warmup=0,
                                   extra=setup.client_args(scheme))
    r["server_cpu_s"] = servers.cpu_seconds(pid) - cpu0
    r["handshake_p99_ms"] = (r["tls"]["handshake_ms"]["p99"] if scheme == "wss"
                             else r["upgrade_p99_ms"])
    r["rate"], r["clients"] = rate, clients
    r["pass"] = (r["established"] == clients and r["handshake_p99_ms"] <= HANDSHAKE_P99_MS
                 and r["ramp_achieved_per_s"] >= 0.95 * rate and srv.alive())
    return r


def handshakes(name, a, setup, scheme):
    """Doubles the connection rate from 250/s while trials pass, then bisects
    to 10%. A fresh server per trial: connections left from the last one do
    not weigh on the next."""
    # Every connection stays open to the end: the file limit bounds the rate.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    top = min(a.max_conn_rate, (hard - 1024) / a.ramp_seconds)
    compare.raise_nofile(int(top * a.ramp_seconds) + 1024)
    trials, lo, hi, rate = [], 0.0, None, 250.0
    while rate <= top:
        try:
            with compare.make_server(name, a, args=setup.server_args(scheme)) as srv:
                r = ramp_trial(srv, a, scheme, rate, setup)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
            r = {"rate": rate, "pass": False, "error": str(e)}
        trials.append(r)
        if r["pass"]:
            lo = rate
            if hi is None:
                if rate >= top:
                    break  # as far as the file limit goes
                rate = min(rate * 2, top)
                continue
        else:
            hi = rate
        if hi is not None and (hi - lo) / hi <= 0.10:
            break
        rate = round((lo + hi) / 2) if hi is not None else rate
    return {"max_per_s": lo, "upper_bound_reached": hi is None, "trials": trials}


# ---- the client's own TLS cost ---------------------------------------------------

def client_cost(a, setup):
    """wsbench-load and tcpkali, ws:// and wss://, against one c-lws per
    scheme, 64-byte messages at a.rate."""
    out = {}
    b = with_size(a, 64)
    for scheme in ("ws", "wss"):
        with compare.make_server("c-lws", a, args=setup.server_args(scheme)) as srv:
            for client in ("wsbench-load", "tcpkali"):
                # tcpkali takes no CA (it does not verify) and no deflate.
                extra = setup.client_args(scheme) if client == "wsbench-load" else []
                out[f"{client} {scheme}"] = compare.run_trial(
                    srv, b, a.clients, a.rate, a.seconds, extra=extra, client=client)
    return out


# ---- output ----------------------------------------------------------------------

def fmt(v, spec=".2f"):
    return "-" if v is None else format(v, spec)


def table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))


def print_modes(results, a):
    print(f"\nwsbench-load, {a.clients} clients, {a.rate:g} msg/s in all, server on CPU 1, "
          "load on CPU 0; ratios to the same server's ws:// at the same size")
    print(f"A mode that does not hold {a.rate:g} msg/s (lost echoes, p99 > {OVERLOAD_P99_MS:g} ms, "
          f"or the client the limit) is measured again at {a.rate / 4:g}, then {a.rate / 20:g}")
    rows = [["server", "size", "mode", "msg/s", "srv us/echo", "x ws", "p99 ms", "x ws",
             "cli us/echo", "wire B out/in", "note"]]
    for name, r in results["servers"].items():
        for size in a.sizes:
            for mode in MODES:
                rows += mode_rows(name, size, mode, r.get("modes", {}))
    table(rows)


def mode_rows(name, size, mode, modes_of):
    trials = modes_of.get(mode, {}).get(size)
    if not trials:
        err = modes_of.get(mode, {}).get("error", "not run")
        return [[name, size, mode, "-", "failed: " + err[:60]] + [""] * 6]
    rows = []
    for t in trials:
        base = next((b for b in modes_of.get("ws", {}).get(size, []) if b["rate"] == t["rate"]),
                    None)
        if not t["held"]:
            why = (f"lost {t['lost']}" if t["lost"] else "") or \
                  ("client-limited" if t["client_limited"] else "") or \
                  ("server died" if not t["server_alive"] else f"p99 {t['p99_ms']:.0f} ms")
            rows.append([name, size, mode, f"{t['rate']:g}", "-", "", "-", "",
                         fmt(t["client_cpu_us_per_echo"], ".1f") if t["received"] else "-",
                         "", "did not hold: " + why])
            continue
        ok = base and base["held"]
        srv_x = t["server_cpu_us_per_echo"] / base["server_cpu_us_per_echo"] if ok else None
        p99_x = t["p99_ms"] / base["p99_ms"] if ok else None
        rows.append([name, size, mode, f"{t['rate']:g}", fmt(t["server_cpu_us_per_echo"], ".1f"),
                     fmt(srv_x) + "x" if srv_x else "-", fmt(t["p99_ms"]),
                     fmt(p99_x) + "x" if p99_x else "-", fmt(t["client_cpu_us_per_echo"], ".1f"),
                     f"{fmt(t['wire_bytes_sent'], '.0f')}/{fmt(t['wire_bytes_received'], '.0f')}",
                     ""])
    return rows


def print_handshakes(results):
    print(f"\nnew connections per second with handshake p99 <= {HANDSHAKE_P99_MS:g} ms "
          "(wss: the TLS handshake; ws: the WebSocket upgrade; +: every trial passed, "
          "up to what --max-conn-rate and the file limit allow)")
    rows = [["server", "scheme", "conn/s", "p99 ms there", "srv us/conn", "cli CPU %"]]
    for name, r in results["servers"].items():
        for scheme in ("wss", "ws"):
            h = r.get("handshakes", {}).get(scheme)
            if not h:
                continue
            best = [t for t in h["trials"] if t.get("pass") and t["rate"] == h["max_per_s"]]
            t = best[0] if best else None
            rows.append([name, scheme, fmt(h["max_per_s"], ".0f") + ("+" if h["upper_bound_reached"] else ""),
                         fmt(t and t["handshake_p99_ms"]),
                         fmt(t and t["server_cpu_s"] * 1e6 / t["clients"], ".0f"),
                         fmt(t and t["client_cpu_percent"], ".0f")])
    table(rows)


def print_client(results):
    c = results.get("client")
    if not c:
        return
    print("\nclient CPU per echo against c-lws (64 B, same rate): wsbench-load verifies "
          "every echo, tcpkali does not")
    rows = [["client", "ws us/echo", "wss us/echo", "wss/ws", "p99 wss ms"]]
    for client in ("wsbench-load", "tcpkali"):
        ws, wss = c[f"{client} ws"], c[f"{client} wss"]
        rows.append([client, fmt(ws["client_cpu_us_per_echo"], ".1f"),
                     fmt(wss["client_cpu_us_per_echo"], ".1f"),
                     fmt(wss["client_cpu_us_per_echo"] / ws["client_cpu_us_per_echo"]) + "x",
                     fmt(wss["p99_ms"])])
    table(rows)
    ratio = c["wsbench-load wss"]["client_cpu_us_per_echo"] / c["tcpkali wss"]["client_cpu_us_per_echo"]
    print(f"wsbench-load over wss:// / tcpkali --ssl: {ratio:.2f}x CPU per echo (goal <= 1.2x)")


# ---- main ------------------------------------------------------------------------

def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    built = [n for n in TLS_SERVERS if n in servers.available_servers()]
    p.add_argument("--servers", default=",".join(built))
    p.add_argument("--clients", type=int, default=100)
    p.add_argument("--rate", type=float, default=20000, help="msg/s in all")
    p.add_argument("--sizes", default="64,4096")
    p.add_argument("--seconds", type=float, default=5, help="measured seconds per trial")
    p.add_argument("--ramp-seconds", type=float, default=2)
    p.add_argument("--max-conn-rate", type=float, default=16000,
                   help="capped by the file limit: every connection stays open")
    p.add_argument("--tcpkali", default=os.environ.get("TCPKALI") or shutil.which("tcpkali"))
    p.add_argument("--skip", default="", help=f"parts to leave out: {','.join(PARTS)}")
    p.add_argument("--no-pin", dest="pin", action="store_false")
    p.add_argument("--out", default=os.path.join(servers.build_dir(), "bench-tls-deflate.json"))
    a = p.parse_args()
    a.names = [n for n in a.servers.split(",") if n]
    bad = [n for n in a.names if n not in TLS_SERVERS or n not in servers.available_servers()]
    if bad:
        p.error(f"--servers: not built or not TLS-capable: {', '.join(bad)}")
    a.sizes = [int(s) for s in a.sizes.split(",") if s]
    a.skip = {s for s in a.skip.split(",") if s}
    if a.skip - set(PARTS):
        p.error(f"--skip: unknown part(s) {', '.join(sorted(a.skip - set(PARTS)))}")
    if "client" not in a.skip and not (a.tcpkali and os.access(a.tcpkali, os.X_OK)):
        p.error("no tcpkali for the client part: give --tcpkali PATH, or --skip client")
    if a.pin and (not shutil.which("taskset") or os.cpu_count() < 2):
        a.pin = False
    # What compare.py's trials read from their options.
    a.client, a.peers, a.size = "wsbench-load", {}, 64
    a.ramp = lambda clients: 0
    return a


def main():
    a = parse_args()
    results = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "clients": a.clients,
               "rate": a.rate, "sizes": a.sizes, "seconds": a.seconds, "pinned": a.pin,
               "servers": {}}
    pki_dir = tempfile.mkdtemp(prefix="wsbench-bench-tls-")
    try:
        setup = Setup(pki_dir)
        for name in a.names:
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            r = results["servers"][name] = {}
            if "modes" not in a.skip:
                r["modes"] = modes(name, a, setup)
            if "handshakes" not in a.skip:
                r["handshakes"] = {s: handshakes(name, a, setup, s) for s in ("wss", "ws")}
        if "client" not in a.skip:
            print("bench: client cost ...", file=sys.stderr, flush=True)
            results["client"] = client_cost(a, setup)
    finally:
        shutil.rmtree(pki_dir, ignore_errors=True)
    with open(a.out + ".tmp", "w") as f:
        json.dump(results, f, indent=1)
    os.replace(a.out + ".tmp", a.out)
    if "modes" not in a.skip:
        print_modes(results, a)
    if "handshakes" not in a.skip:
        print_handshakes(results)
    print_client(results)
    print(f"\nfull results: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
