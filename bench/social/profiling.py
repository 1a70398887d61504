"""Where a feed read's time goes (docs/performance.md), in a database of its own.

The data of bench/social/main.py (SOCIAL_BENCH_USERS bettors, SOCIAL_BENCH_BETS settled
public bets, a reader following SOCIAL_BENCH_FOLLOWING of them), then:

- the statements of one feed read (`social.selectors.feed_for_user`), of its next page, and
  of the feed page (`GET /feed/` through Django's test client: session, view, template),
  each with its time and its `EXPLAIN (ANALYZE, BUFFERS)`;
- PROFILE_READS reads of the feed page and of the feed API under cProfile (the top
  functions by cumulative time, then by own time).

    SOCIAL_BENCH_BETS=200000 .venv/bin/python bench/social/profiling.py
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import bench_database, size

READS = int(size("PROFILE_READS", "100", "5"))
TOP = int(os.environ.get("PROFILE_TOP", "25"))


def statements(label: str, func) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    func()  # warm: the first read fills caches
    with CaptureQueriesContext(connection) as captured:
        began = time.perf_counter()
        func()
        elapsed = (time.perf_counter() - began) * 1000
    print(f"\n--- {label}: {len(captured.captured_queries)} statements, {elapsed:.1f} ms in all")
    for query in captured.captured_queries:
        sql = query["sql"]
        print(f"\n[{float(query['time']) * 1000:.2f} ms] {sql[:600]}")
        if sql.lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                print("\n".join("    " + row[0] for row in cursor.fetchall()))


def profiled(label: str, func) -> None:
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    for _ in range(READS):
        func()
    profiler.disable()
    print(f"\n--- {label}: {(time.perf_counter() - began) * 1000 / READS:.1f} ms a read under cProfile")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    # the project's own functions and the template engine's, by cumulative then own time
    stats.sort_stats("cumulative").print_stats(r"wt-|/work/|template", TOP)
    stats.sort_stats("tottime").print_stats(TOP)
    print(out.getvalue())


def measure() -> int:
    from django.test import Client
    from django.utils import timezone
    from rest_framework.test import APIClient

    from bench.social.main import FOLLOWING, load
    from betthat.users.models import User
    from social import selectors
    from social.models import Follow

    now = timezone.now()
    reader_id, bettors = load(now)
    Follow.objects.bulk_create([Follow(follower_id=reader_id, followee_id=pk) for pk in bettors[:FOLLOWING]])
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE social_follow")
    reader = User.objects.get(pk=reader_id)
    first = selectors.feed_for_user(user=reader)
    statements("feed_for_user, first page", lambda: selectors.feed_for_user(user=reader))
    statements(
        "feed_for_user, next page", lambda: selectors.feed_for_user(user=reader, cursor=first.next_cursor)
    )
    browser = Client()
    browser.force_login(reader)
    assert browser.get("/feed/").status_code == 200
    statements("GET /feed/ (the page)", lambda: browser.get("/feed/"))
    api = APIClient()
    api.force_authenticate(reader)
    profiled("GET /feed/ (the page)", lambda: browser.get("/feed/"))
    profiled("GET /api/v1/feed/", lambda: api.get("/api/v1/feed/"))
    return 0


def main() -> int:
    os.environ["OUTBOX_NUDGE"] = "0"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    with bench_database("social_profile"):
        return measure()


if __name__ == "__main__":
    sys.exit(main())
