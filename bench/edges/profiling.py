"""Where ingest's time goes (docs/performance.md): in a database of its own, the quote
updates of bench/edges (300 events, 8 books) ingested in batches of PROFILE_BATCH under
cProfile; the top functions and the statements of one batch with their times. Then the
same number of batches without the profiler, with the CPU time of each thread of this
process (cProfile sees only the ingesting thread, not the realtime sender's, which
delivers the batches' deltas after commit) and of the database backend.

    .venv/bin/python bench/edges/profiling.py
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import bench_database

BATCH = int(os.environ.get("PROFILE_BATCH", "2000"))
TOTAL = int(os.environ.get("PROFILE_TOTAL", "40000"))
TOP = int(os.environ.get("PROFILE_TOP", "30"))


def main() -> int:
    with bench_database("edgesprofile"):
        return measure()


def measure() -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from main import Feed, setup

    from edges.ingest import ingest_updates

    feed = Feed(events=300)
    setup(feed)
    batches = [
        feed.updates(BATCH, datetime.now(UTC) + timedelta(milliseconds=i)) for i in range(TOTAL // BATCH + 1)
    ]
    unprofiled = [
        feed.updates(BATCH, datetime.now(UTC) + timedelta(seconds=1, milliseconds=i))
        for i in range(TOTAL // BATCH)
    ]
    connection.force_debug_cursor = True
    with CaptureQueriesContext(connection) as captured:
        began = time.perf_counter()
        ingest_updates(updates=batches.pop())
        one = time.perf_counter() - began
    connection.force_debug_cursor = False
    total_sql = sum(float(q["time"]) for q in captured.captured_queries)
    print(
        f"--- one batch of {BATCH}: {one * 1000:.1f} ms, {len(captured.captured_queries)} statements, "
        f"{total_sql * 1000:.1f} ms waiting on them ---"
    )
    for query in captured.captured_queries:
        print(f"  {float(query['time']) * 1000:7.2f} ms  {query['sql'][:160]}")
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    for updates in batches:
        ingest_updates(updates=updates)
    profiler.disable()
    elapsed = time.perf_counter() - began
    print(
        f"  {BATCH * len(batches):,} updates in {elapsed:.2f}s: {BATCH * len(batches) / elapsed:,.0f}/s (under cProfile)"
    )
    for sort in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(TOP)
        print(f"\n--- top by {sort} ---")
        print("\n".join(out.getvalue().splitlines()[6:]))
    cpu_without_profiler(unprofiled)
    return 0


def _cpu_seconds(stat_path: str) -> float:
    """utime + stime of a process or thread, from /proc."""
    with open(stat_path) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _threads() -> dict[int, float]:
    return {int(tid): _cpu_seconds(f"/proc/self/task/{tid}/stat") for tid in os.listdir("/proc/self/task")}


def cpu_without_profiler(batches: list) -> None:
    from django.db import connection

    from betthat.core import realtime
    from edges.ingest import ingest_updates

    connection.ensure_connection()
    backend = f"/proc/{connection.connection.info.backend_pid}/stat"
    local_backend = os.path.exists(backend)
    threads, db = _threads(), _cpu_seconds(backend) if local_backend else 0.0
    began = time.perf_counter()
    for updates in batches:
        ingest_updates(updates=updates)
    elapsed = time.perf_counter() - began
    realtime.flush(timeout=60)  # the sender's last deliveries count too
    after, n = _threads(), len(batches)
    main_thread = threading.get_native_id()
    ingesting = after.pop(main_thread) - threads.pop(main_thread, 0.0)
    others = sum(cpu - threads.get(tid, 0.0) for tid, cpu in after.items())
    print(
        f"\n--- without the profiler: {BATCH * n:,} updates in {elapsed:.2f}s: {BATCH * n / elapsed:,.0f}/s ---\n"
        f"  CPU per batch: ingesting thread {ingesting / n * 1000:.0f} ms, "
        f"other threads (realtime sender) {others / n * 1000:.0f} ms"
        + (f", database backend {(_cpu_seconds(backend) - db) / n * 1000:.0f} ms" if local_backend else "")
    )


if __name__ == "__main__":
    sys.exit(main())
