"""Where one placement's time goes (docs/performance.md): in a database of its own, place
PROFILE_BETS bets through the API in this process (DRF's test client: the same view, auth,
throttles and serializers as over HTTP, without the ASGI server), under cProfile, and print
the top functions by cumulative and own time, the statements of one placement with their
times, and EXPLAIN ANALYZE of the locked statements.

    .venv/bin/python bench/betting/profile_placement.py
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import bench_database

BETS = int(os.environ.get("PROFILE_BETS", "300"))


def main() -> int:
    with bench_database("profile"):
        return measure()


def measure() -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from bench.betting.main import BENCH_FRESHNESS_SECONDS, make_bettors, placement_body
    from edges.models import OddsQuote, Sportsbook
    from tests.betting.factories import make_game

    run = uuid.uuid4().hex[:6]
    bettors = make_bettors(run, 20)
    game = make_game(home=f"ProfHome-{run}", away=f"ProfAway-{run}")
    Sportsbook.objects.update(freshness_seconds=BENCH_FRESHNESS_SECONDS)
    selections = []
    for alias in ("home_ml", "away_ml", "over", "under"):
        quote = OddsQuote.objects.get(outcome=game.o(alias), sportsbook__key="draftkings")
        selections.append((game.o(alias).pk, "draftkings", str(quote.price_decimal)))
    clients = []
    for _user, token in bettors:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        clients.append(client)

    def place(n: int):
        response = clients[n % len(clients)].post(
            "/api/v1/bets/",
            placement_body(selections[n % len(selections)]),
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"{run}-{n}",
        )
        assert response.status_code == 201, response.content
        return response

    for n in range(50):  # warm-up: caches, prepared paths
        place(n)
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    for n in range(50, 50 + BETS):
        place(n)
    profiler.disable()
    elapsed = time.perf_counter() - began
    print(f"  {BETS} placements in {elapsed:.2f}s in one process: {elapsed / BETS * 1000:.2f} ms each")
    for sort in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(28)
        print(f"\n--- top by {sort} ---")
        print("\n".join(out.getvalue().splitlines()[6:]))

    connection.force_debug_cursor = True
    with CaptureQueriesContext(connection) as captured:
        began = time.perf_counter()
        place(10_000)
        one = time.perf_counter() - began
    total_sql = sum(float(q["time"]) for q in captured.captured_queries)
    print(
        f"\n--- one placement: {one * 1000:.2f} ms, {len(captured.captured_queries)} statements, "
        f"{total_sql * 1000:.2f} ms waiting on them ---"
    )
    for query in captured.captured_queries:
        print(f"  {float(query['time']) * 1000:6.2f} ms  {query['sql'][:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
