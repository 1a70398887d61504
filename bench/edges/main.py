"""bench/edges: the pricing engine and the odds path end to end.

1. Pricing: markets re-priced per second (fair line, best prices, arbitrage, +EV) for
   2-way and 3-way markets quoted by 8 books.
2. Ingest: quote updates per second through edges.ingest.ingest_updates (upsert with
   monotonic versions, history, edges recomputed for the touched markets) in batches.
3. Latency: a real ASGI server (uvicorn, started here on a free port), BENCH_WS_CLIENTS (500)
   websocket clients on the board, quote updates ingested at 1,000/s; ingest-to-client
   latency p50/p99, split into the tick's ingest and ingest-returned-to-client, and the CPU
   of the feeder, the server and the clients (per frame and socket for the last two).
   BENCH_EDGES_PARTS=latency runs it alone; BENCH_WS_PYSPY=<dir> writes py-spy profiles.

Targets (issue 14): >= 10,000 quote updates/s with edges current; p99 < 150 ms with 500
clients. Baselines before it: 6,449/s, and p99 114 ms with 200 clients.

It runs in a database of its own (common.bench_database), dropped at the end.
"""

from __future__ import annotations

import bisect
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import BASE_DIR, bench_database, line, percentile, pgbench_tps, size, start_uvicorn, stop_group

BOOKS = ["pinnacle", "draftkings", "fanduel", "betmgm", "caesars", "pointsbet", "bovada", "betrivers"]
PREFIX = "bench-edges-"
WS_CLIENTS = int(size("BENCH_WS_CLIENTS", "500", "5"))
WS_SECONDS = float(size("BENCH_WS_SECONDS", "12", "1"))
EVENTS = int(size("BENCH_EDGES_EVENTS", "300", "10"))
SETUP_UPDATES = int(size("BENCH_EDGES_SETUP_UPDATES", "4000", "200"))
INGEST_TOTAL = int(size("BENCH_EDGES_INGEST_TOTAL", "40000", "400"))
INGEST_BATCH = int(size("BENCH_EDGES_INGEST_BATCH", "2000", "100"))
PRICING_MARKETS = int(size("BENCH_EDGES_PRICING_MARKETS", "2000", "50"))
PRICING_SECONDS = float(size("BENCH_EDGES_PRICING_SECONDS", "3", "0.2"))
# e.g. BENCH_EDGES_PARTS=latency to run only the websocket latency (after the setup)
PARTS = set(os.environ.get("BENCH_EDGES_PARTS", "pricing,ingest,latency").split(","))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """utime and stime (user and kernel CPU) of process `pid`, all its threads, from
    /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def bench_pricing() -> tuple[float, float]:
    from edges import pricing

    rng = random.Random(1)

    def market(n: int) -> dict:
        fair = [rng.uniform(0.2, 0.6) for _ in range(n)]
        total = sum(fair)
        fair = [f / total for f in fair]
        return {book: [1 / (f * rng.uniform(1.02, 1.07)) for f in fair] for book in BOOKS}

    results = []
    for n in (2, 3):
        markets = [market(n) for _ in range(PRICING_MARKETS)]
        done = 0
        started = time.perf_counter()
        while time.perf_counter() - started < PRICING_SECONDS:
            for m in markets:
                pricing.price_market(m, sharp_books=("pinnacle",))
            done += len(markets)
        results.append(done / (time.perf_counter() - started))
    return results[0], results[1]


class Feed:
    """Random-walking 2-way markets over N events quoted by 8 books."""

    def __init__(self, events: int, seed: int = 3) -> None:
        self.rng = random.Random(seed)
        self.events = [f"{PREFIX}{i}" for i in range(events)]
        self.fair = {(e, m): self.rng.uniform(0.3, 0.7) for e in self.events for m in ("h2h", "totals")}
        self.last = datetime.now(UTC)

    def event_data(self):
        from edges.ingest import EventData

        start = datetime.now(UTC) + timedelta(days=2)
        return [EventData(e, "basketball_nba", "NBA", f"Home {e}", f"Away {e}", start) for e in self.events]

    def updates(self, n: int, when: datetime | None = None):
        from edges import pricing
        from edges.ingest import QuoteUpdate

        when = when or datetime.now(UTC)
        if when <= self.last:
            when = self.last + timedelta(microseconds=1)
        self.last = when
        out = []
        while len(out) < n:
            event = self.rng.choice(self.events)
            key = self.rng.choice(("h2h", "totals"))
            book = self.rng.choice(BOOKS)
            p = self.fair[(event, key)] = min(
                0.85, max(0.15, self.fair[(event, key)] + self.rng.gauss(0, 0.004))
            )
            margin = 1.025 if book == "pinnacle" else self.rng.uniform(1.03, 1.06)
            names = (f"Home {event}", f"Away {event}") if key == "h2h" else ("Over", "Under")
            line_ = Decimal("220.5") if key == "totals" else None
            for name, prob in zip(names, (p, 1 - p), strict=True):
                noise = 1.0 if book == "pinnacle" else self.rng.gauss(1.0, 0.012)
                d = pricing.quantize_odds(Decimal(repr(max(1.01, 1 / (prob * margin * noise)))))
                out.append(
                    QuoteUpdate(
                        event,
                        book,
                        key,
                        name,
                        d,
                        pricing.decimal_to_american(d),
                        when,
                        line=line_,
                        outcome_point=line_,
                    )
                )
        return out[:n]


def setup(feed: Feed) -> None:
    from edges.ingest import ingest_updates
    from edges.simulator import Simulator

    Simulator.ensure_books()
    ingest_updates(updates=feed.updates(SETUP_UPDATES), events=feed.event_data())


def cleanup() -> None:
    from edges.models import Event

    Event.objects.filter(provider_id__startswith=PREFIX).delete()


def bench_ingest(feed: Feed, *, total: int = INGEST_TOTAL, batch: int = INGEST_BATCH) -> float:
    from django.db import close_old_connections

    from edges.ingest import ingest_updates

    batches = [
        feed.updates(batch, datetime.now(UTC) + timedelta(milliseconds=i)) for i in range(total // batch)
    ]
    close_old_connections()
    started = time.perf_counter()
    for updates in batches:
        ingest_updates(updates=updates)
    return total / (time.perf_counter() - started)


def bench_latency(feed: Feed, *, clients: int = 200, rate: int = 1000, seconds: float = 12.0) -> dict:
    """Latency from a batch's start (before its ingest) to each client's receipt, the rate the
    feeder reached, and the CPU (cores busy) of the feeder, the server and the clients over
    the feed's window."""
    from django.conf import settings
    from django.test import Client

    from betthat.users.models import User
    from edges.ingest import ingest_updates

    user, _ = User.objects.get_or_create(email="bench-edges@bet-that.local", defaults={"status": "active"})
    browser = Client()
    browser.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    env = dict(os.environ, LOG_LEVEL="WARNING")
    from betthat.websocket_protocol import UVICORN_WS

    server, port = start_uvicorn(
        env,
        # as scripts/run.py runs it; BENCH_UVICORN_ARGS comes after and wins, e.g.
        # "--ws websockets-sansio" (uvicorn's own) or "--ws-per-message-deflate false"
        extra_args=["--ws", UVICORN_WS, *os.environ.get("BENCH_UVICORN_ARGS", "").split()],
    )
    client_proc = None
    try:
        client_proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).parent / "clients.py"),
                f"ws://127.0.0.1:{port}/ws/odds/",
                cookie,
                f"http://127.0.0.1:{port}",
                str(clients),
                str(seconds + 60),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=BASE_DIR,
            env=env,
        )
        first_line = client_proc.stdout.readline()
        if not first_line:
            raise RuntimeError("the websocket clients' process ended before connecting (its error is above)")
        ready = json.loads(first_line)
        print(
            f"  latency run: {ready['ready']} of {clients} clients connected and subscribed"
            + (
                f"; {ready['failed']} failed, the first with {ready['first_failure']}"
                if ready["failed"]
                else ""
            ),
            flush=True,
        )
        start = time.time()
        client_proc.stdin.write(f"{start}\n")
        client_proc.stdin.flush()
        tick = 0.1
        per_tick = int(rate * tick)
        sent = 0
        ticks: list[tuple[float, float]] = []  # each tick's ingest: began, returned (committed)
        pids = {"feeder": os.getpid(), "server": server.pid, "clients": client_proc.pid}
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        profilers = []
        if os.environ.get("BENCH_WS_PYSPY"):  # a directory: py-spy flame graphs of the server and clients
            out_dir = Path(os.environ["BENCH_WS_PYSPY"])
            profilers = [
                subprocess.Popen(
                    [
                        str(Path(sys.executable).parent / "py-spy"),
                        "record",
                        "--pid",
                        str(pids[name]),
                        "--duration",
                        str(int(seconds)),
                        "--rate",
                        "200",
                        "--format",
                        "raw",
                        "--output",
                        str(out_dir / f"ws-{name}.txt"),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for name in ("server", "clients")
            ]
        begin = time.monotonic()
        while time.monotonic() - begin < seconds:
            t0 = time.monotonic()
            started = time.time()
            ingest_updates(updates=feed.updates(per_tick))
            ticks.append((started, time.time()))
            sent += per_tick
            time.sleep(max(0.0, tick - (time.monotonic() - t0)))
        elapsed = time.monotonic() - begin
        cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
        cpu = {name: (sum(cpu_after[name]) - sum(cpu_before[name])) / elapsed for name in pids}
        kernel = {name: (cpu_after[name][1] - cpu_before[name][1]) / elapsed for name in pids}
        for profiler in profilers:
            profiler.wait(timeout=60)
        time.sleep(2)
        out = None
        client_proc.stdin.write("stop\n")
        client_proc.stdin.flush()
        try:
            out_text, _ = client_proc.communicate(timeout=60)
            for row in out_text.splitlines():
                data = json.loads(row)
                if "frames" in data:
                    out = data["frames"]
        except subprocess.TimeoutExpired:
            client_proc.kill()
        frames = out or []
        begins = [begin for begin, _end in ticks]
        latencies: list[float] = []  # one per edge update delivered, from the batch's start
        after_commit: list[float] = []  # the same deliveries, from the tick's ingest returning
        for at, received, updates, _length in frames:
            latencies.extend([(received - at) * 1000] * updates)
            index = bisect.bisect_right(begins, at) - 1  # the tick whose ingest stamped `at`
            if index >= 0 and at <= ticks[index][1]:
                after_commit.extend([(received - ticks[index][1]) * 1000] * updates)
        ingest_ms = [(end - begin) * 1000 for begin, end in ticks]
        return {
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99),
            "after_commit_p50": percentile(after_commit, 50),
            "after_commit_p99": percentile(after_commit, 99),
            "ingest_p50": percentile(ingest_ms, 50),
            "ingest_p99": percentile(ingest_ms, 99),
            "frames_per_client_s": len(frames) / max(1, ready["ready"]) / elapsed,
            "frame_chars": sum(f[3] for f in frames) / max(1, len(frames)),
            "samples": len(latencies),
            "connected": ready["ready"],
            "achieved": sent / elapsed,
            "cpu": cpu,
            "kernel": kernel,
        }
    finally:
        if client_proc and client_proc.poll() is None:
            client_proc.kill()
        stop_group(server)


def main() -> int:
    with bench_database("edges"):
        return measure()


def measure() -> int:
    print("edges: pricing engine and the odds path", flush=True)
    if "pricing" in PARTS:
        two, three = bench_pricing()
        line("pricing: 2-way markets re-priced (8 books)", two, "markets/s")
        line("pricing: 3-way markets re-priced (8 books)", three, "markets/s")
    tps = pgbench_tps(clients=2, seconds=8)
    line("pgbench TPC-B-like (reference)", tps, "tps")
    feed = Feed(events=EVENTS)
    cleanup()
    setup(feed)
    try:
        if "ingest" in PARTS:
            rate = bench_ingest(feed)
            line(
                "ingest: quote updates with edges kept current",
                rate,
                "updates/s",
                baseline=tps,
                target=">= 10,000/s",
                ok=rate >= 10_000,
            )
        if "latency" in PARTS:
            result = bench_latency(feed, clients=WS_CLIENTS, seconds=WS_SECONDS)
            line(
                f"latency: ingest -> websocket client p50 ({result['connected']} clients)",
                result["p50"],
                "ms",
            )
            line(
                f"latency: ingest -> websocket client p99 ({result['samples']} deliveries)",
                result["p99"],
                "ms",
                target=f"< 150 ms at 1,000/s, {WS_CLIENTS} clients",
                ok=result["p99"] < 150 and result["connected"] >= WS_CLIENTS,
            )
            line("latency run: quote updates ingested", result["achieved"], "updates/s")
            line("latency run: a tick's ingest p50", result["ingest_p50"], "ms")
            line("latency run: a tick's ingest p99", result["ingest_p99"], "ms")
            line("latency run: ingest returned -> client p50", result["after_commit_p50"], "ms")
            line("latency run: ingest returned -> client p99", result["after_commit_p99"], "ms")
            line("latency run: frames a client received", result["frames_per_client_s"], "/s")
            line("latency run: a frame's length", result["frame_chars"], "characters")
            for name, cores in result["cpu"].items():
                line(f"latency run: CPU of the {name} process", cores * 100, "% of a core")
                line(
                    f"latency run: of which in the kernel ({name})",
                    result["kernel"][name] * 100,
                    "% of a core",
                )
            # per frame and socket: the fan-out's cost, whatever the machine's load
            socket_frames = result["frames_per_client_s"] * result["connected"]
            for name in ("server", "clients"):
                line(
                    f"latency run: {name} CPU per frame and socket",
                    result["cpu"][name] / socket_frames * 1e6,
                    "us",
                )
    finally:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
