#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A short, verified echo check against a running echo server.

Opens --clients connections, and on each sends --messages messages one
round trip at a time (alternating text and binary, content derived from
client and sequence number), verifies every echo byte for byte and reports
counts and round-trip percentiles. It is a smoke check, not the benchmark:
the round trips include this Python client's own overhead.
"""
import argparse
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import wsproto as ws  # noqa: E402


def payload(client, seq, size):
    head = f"{client}:{seq}:".encode()
    return (head + b"." * size)[:max(size, len(head))]


def run_client(url, client, count, size, out):
    rtts, errors = [], 0
    try:
        c = ws.Conn(url, timeout=10.0)
        c.handshake()
        for seq in range(count):
            op = ws.OP_TEXT if seq % 2 == 0 else ws.OP_BINARY
            p = payload(client, seq, size)
            t0 = time.perf_counter()
            c.send_frame(op, p)
            ev = c.next_event(10.0)
            rtts.append(time.perf_counter() - t0)
            if ev != ("message", op, p):
                errors += 1
        c.send_close(1000)
        c.wait_eof(2.0)
        c.close()
    except (OSError, ws.ProtocolError) as e:
        errors += 1
        print(f"client {client}: {e}", file=sys.stderr)
    out[client] = (rtts, errors)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--messages", type=int, default=1000)
    p.add_argument("--size", type=int, default=64)
    a = p.parse_args()
    out = {}
    t0 = time.perf_counter()
    threads = [threading.Thread(target=run_client, args=(a.url, i, a.messages, a.size, out))
               for i in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    rtts = sorted(r for v in out.values() for r in v[0])
    errors = sum(v[1] for v in out.values())
    sent = a.clients * a.messages

    def pct(q):
        return rtts[min(len(rtts) - 1, int(q * len(rtts)))] * 1e3 if rtts else float("nan")

    print(f"echo check against {a.url}")
    print(f"  clients {a.clients}, messages {sent} ({a.size} B, text and binary), "
          f"verified {len(rtts) - errors}, errors {errors}")
    print(f"  {len(rtts) / took:,.0f} round trips/s over {took:.2f} s")
    if rtts:
        print(f"  round trip ms: min {rtts[0] * 1e3:.3f}  p50 {pct(0.5):.3f}  p90 {pct(0.9):.3f}  "
              f"p99 {pct(0.99):.3f}  max {rtts[-1] * 1e3:.3f}  mean {statistics.fmean(rtts) * 1e3:.3f}")
    return 1 if errors or len(rtts) != sent else 0


if __name__ == "__main__":
    sys.exit(main())
