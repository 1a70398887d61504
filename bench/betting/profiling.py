"""Where the time goes (docs/performance.md), in a database of its own:

- placement: PROFILE_BETS bets placed through the API in this process (DRF's test client:
  the same view, auth, throttles and serializers as over HTTP, without the ASGI server),
  under cProfile; the top functions by cumulative and own time, and the statements of one
  placement with their times;
- settlement: PROFILE_PENDING pending bets on a finished event settled by `settle_due_bets`
  in batches of PROFILE_BATCH under cProfile; the statements of one batch with their times.

    .venv/bin/python bench/betting/profiling.py            # both
    PROFILE_PARTS=settlement .venv/bin/python bench/betting/profiling.py
    PROFILE_CLOCK=cpu PROFILE_PARTS=placement .venv/bin/python bench/betting/profiling.py  # CPU time only
    PROFILE_PARTS=cpu .venv/bin/python bench/betting/profiling.py   # CPU ms per no-op POST / placement
    PROFILE_PARTS=statements .venv/bin/python bench/betting/profiling.py  # a placement by parts

`statements`: PROFILE_BETS placements measured by the server itself, `pg_stat_statements`
with `track = all` (every statement inside `betting_bet_reserve` and the foreign-key checks
its commit runs, each with its time and WAL), `track_functions = all` (the ledger's
triggers) and `pg_stat_wal` (the commits' WAL records, bytes and flushes). Those need
`shared_preload_libraries`, which the embedded PostgreSQL (pgserver's build) cannot load: it
ships no contrib modules. So this part starts a PostgreSQL of its own from Debian's
`postgresql-15` binaries (bench.common.private_postgres: a temporary cluster on a free
loopback port, stopped and removed at the end), or uses DATABASE_URL's server if that one
already preloads pg_stat_statements.
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

# The no-op POST (betthat/core/bench_api.py) is mounted only where this is on.
os.environ.setdefault("BENCH_NOOP_API", "true")
NOOP_PATH = "/api/v1/bench/noop/"

BETS = int(os.environ.get("PROFILE_BETS", "300"))
PENDING = int(os.environ.get("PROFILE_PENDING", "20000"))
BATCH = int(os.environ.get("PROFILE_BATCH", "1000"))
PARTS = set(os.environ.get("PROFILE_PARTS", "placement,settlement").split(","))
TOP = int(os.environ.get("PROFILE_TOP", "28"))
# A directory to write the raw profiles to (placement.prof, settlement.prof), for pstats/snakeviz.
DUMP = os.environ.get("PROFILE_DUMP", "")
# PROFILE_CLOCK=cpu: profile CPU time (time.process_time), so waits on PostgreSQL and Redis do
# not count and the Python's own cost shows, whatever else the machine is doing.
CLOCK = os.environ.get("PROFILE_CLOCK", "wall")


def new_profiler() -> cProfile.Profile:
    return cProfile.Profile(time.process_time) if CLOCK == "cpu" else cProfile.Profile()


def main() -> int:
    if "statements" in PARTS:
        from bench.common import private_postgres

        with private_postgres(preload="pg_stat_statements") as url:
            os.environ["DATABASE_URL"] = url
            with bench_database("statements"):
                return profile_statements()
    with bench_database("profile"):
        return measure()


def measure() -> int:
    if "placement" in PARTS:
        profile_placement()
    if "settlement" in PARTS:
        profile_settlement()
    if "cpu" in PARTS:
        profile_cpu()
    return 0


def print_profile(profiler: cProfile.Profile, name: str) -> None:
    if DUMP:
        profiler.dump_stats(str(Path(DUMP) / f"{name}.prof"))
    for sort in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(TOP)
        print(f"\n--- top by {sort} ---")
        print("\n".join(out.getvalue().splitlines()[6:]))


def print_statements(captured, label: str, elapsed: float) -> None:
    total_sql = sum(float(q["time"]) for q in captured.captured_queries)
    print(
        f"\n--- {label}: {elapsed * 1000:.2f} ms, {len(captured.captured_queries)} statements, "
        f"{total_sql * 1000:.2f} ms waiting on them ---"
    )
    for query in captured.captured_queries:
        print(f"  {float(query['time']) * 1000:7.2f} ms  {query['sql'][:160]}")


def profile_settlement() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.betting.main import make_bettors, seed_pending
    from betting.models import Bet
    from betting.services import bet_legs_grade_event, settle_due_bets
    from edges.models import Event
    from edges.services import event_record_result
    from tests.betting.factories import make_game

    run = uuid.uuid4().hex[:6]
    bettors = make_bettors(f"{run}s", 50)
    game = make_game(home=f"ProfSettleHome-{run}", away=f"ProfSettleAway-{run}")
    print(f"\n=== settlement: writing {PENDING:,} pending bets ===", flush=True)
    low, high = seed_pending(run, bettors, game, PENDING)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    Event.objects.filter(pk=game.event.pk).update(commence_time=game.event.commence_time.replace(year=2000))
    event_record_result(event_id=game.event.pk, home_score=27, away_score=20)
    bet_legs_grade_event(event_id=game.event.pk)
    explain_settlement()
    connection.force_debug_cursor = True
    with CaptureQueriesContext(connection) as captured:
        began = time.perf_counter()
        settle_due_bets(batch_size=BATCH, max_batches=1)
        one = time.perf_counter() - began
    print_statements(captured, f"one batch of {BATCH}", one)
    connection.force_debug_cursor = False
    profiler = new_profiler()
    began = time.perf_counter()
    profiler.enable()
    settle_due_bets(batch_size=BATCH)
    profiler.disable()
    elapsed = time.perf_counter() - began
    settled = Bet.objects.filter(pk__range=(low, high)).exclude(status="pending").count()
    print(f"  {settled:,} bets settled in {elapsed:.2f}s in this process: {settled / elapsed:,.0f} bets/s")
    print_profile(profiler, "settlement")


def explain(label: str, sql: str, params: object = None) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement, in a transaction rolled back."""
    from django.db import connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join("    " + row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    print(f"\n--- EXPLAIN ANALYZE: {label} ---\n{plan}")


def explain_settlement() -> None:
    from betting.services.settlement import _DUE_BATCH_SQL

    # The statement of a batch: the due ids from the partial index (top-N), the rows locked
    # by id, their legs.
    explain(f"the batch's due bets, locked, with their legs ({BATCH})", _DUE_BATCH_SQL, {"limit": BATCH})


def explain_placement(place) -> None:
    """The statements `betting_bet_reserve` runs inside, each with its plan and time (the
    server's auto_explain, its LOG lines sent to this client), for one placement made in a
    transaction rolled back."""
    from django.db import connection, transaction

    lines: list[str] = []
    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection

        def collect(diagnostic) -> None:
            lines.append(diagnostic.message_primary or "")

        raw.add_notice_handler(collect)
        try:
            with connection.cursor() as cursor:
                cursor.execute("LOAD 'auto_explain'")
                for setting, value in (
                    ("auto_explain.log_min_duration", "0"),
                    ("auto_explain.log_analyze", "on"),
                    ("auto_explain.log_buffers", "on"),
                    ("auto_explain.log_nested_statements", "on"),
                    ("client_min_messages", "log"),
                ):
                    cursor.execute("SELECT set_config(%s, %s, true)", [setting, value])
            place(20_000)
        finally:
            raw.remove_notice_handler(collect)
        transaction.set_rollback(True)
    print("\n--- EXPLAIN ANALYZE: the statements of one placement, betting_bet_reserve's one by one ---")
    for line in lines:
        print("    " + line.replace("\n", "\n    "))


def placement_clients(bettors: int = 20):
    """Funded bettors' API clients, a game's selections, and `place(n)` (one bet, asserted
    201) for the placement profiles."""
    from rest_framework.test import APIClient

    from bench.betting.main import BENCH_FRESHNESS_SECONDS, make_bettors, placement_body
    from edges.models import OddsQuote, Sportsbook
    from tests.betting.factories import make_game

    run = uuid.uuid4().hex[:6]
    users = make_bettors(run, bettors)
    game = make_game(home=f"ProfHome-{run}", away=f"ProfAway-{run}")
    Sportsbook.objects.update(freshness_seconds=BENCH_FRESHNESS_SECONDS)
    selections = []
    for alias in ("home_ml", "away_ml", "over", "under"):
        quote = OddsQuote.objects.get(outcome=game.o(alias), sportsbook__key="draftkings")
        selections.append((game.o(alias).pk, "draftkings", str(quote.price_decimal)))
    clients = []
    for _user, token in users:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        clients.append(client)

    def place(n: int, path: str = "/api/v1/bets/", status: int = 201):
        response = clients[n % len(clients)].post(
            path,
            placement_body(selections[n % len(selections)]),
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"{run}-{n}",
        )
        assert response.status_code == status, response.content
        return response

    return place


def backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far (/proc: same machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile_cpu() -> None:
    """CPU time of this process per request (time.process_time: no profiler, waits not
    counted), for the no-op POST and for a placement, PROFILE_BETS of each, twice, in turn:
    what the Python of a request costs, whatever the rest of the machine is doing; and the
    CPU its PostgreSQL backend spent on them (requests one at a time: no lock waits)."""
    import statistics

    place = placement_clients()
    for n in range(30):  # warm-up
        place(n)
        place(n, NOOP_PATH, 200)
    print(f"\n=== CPU per request in this process ({BETS} each, median; mean) ===")
    offset = 1000
    for round_ in (1, 2):
        for label, path, status in (("no-op POST", NOOP_PATH, 200), ("placement", "/api/v1/bets/", 201)):
            cpu = []
            backend_before = backend_cpu()
            for n in range(offset, offset + BETS):
                began = time.process_time()
                place(n, path, status)
                cpu.append((time.process_time() - began) * 1000)
            backend = (backend_cpu() - backend_before) / BETS * 1000
            offset += BETS
            print(
                f"  round {round_}: {label:<11} {statistics.median(cpu):6.2f} ms; {statistics.fmean(cpu):6.2f} ms"
                f"   (PostgreSQL's backend: {backend:5.2f} ms)",
                flush=True,
            )


def profile_placement() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    place = placement_clients()

    for n in range(50):  # warm-up: caches, prepared paths
        place(n)
    profiler = new_profiler()
    began = time.perf_counter()
    profiler.enable()
    for n in range(50, 50 + BETS):
        place(n)
    profiler.disable()
    elapsed = time.perf_counter() - began
    print(f"  {BETS} placements in {elapsed:.2f}s in one process: {elapsed / BETS * 1000:.2f} ms each")
    print_profile(profiler, "placement")

    connection.force_debug_cursor = True
    with CaptureQueriesContext(connection) as captured:
        began = time.perf_counter()
        place(10_000)
        one = time.perf_counter() - began
    print_statements(captured, "one placement", one)
    connection.force_debug_cursor = False
    explain_placement(place)


STATEMENTS_SQL = """
SELECT toplevel, calls, total_exec_time / calls, total_plan_time / calls,
       wal_records::float / calls, wal_bytes::float / calls, regexp_replace(query, '\\s+', ' ', 'g')
  FROM pg_stat_statements
 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND calls >= %s
 ORDER BY total_exec_time DESC
 LIMIT %s
"""


def profile_statements() -> None:
    """A placement by parts, as the server counts them (see the module's docstring)."""
    from django.db import connection

    place = placement_clients()
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    for n in range(50):  # warm-up: caches, prepared statements, plans
        place(n)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_statements_reset()")
        cursor.execute("SELECT pg_stat_reset()")
        cursor.execute("SELECT pg_stat_reset_shared('wal')")
    began = time.perf_counter()
    for n in range(50, 50 + BETS):
        place(n)
    elapsed = time.perf_counter() - began
    print(f"\n=== {BETS} placements in one process, {elapsed / BETS * 1000:.2f} ms each ===")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(STATEMENTS_SQL, [BETS // 2, TOP])
        rows = cursor.fetchall()
        print("\n--- pg_stat_statements (track = all), per call; 'nested' ran inside another statement ---")
        print(
            f"  {'':6} {'calls/bet':>9} {'exec ms':>8} {'plan ms':>8} {'WAL rec':>8} {'WAL B':>7}  statement"
        )
        for toplevel, calls, exec_ms, plan_ms, records, wal_bytes, query in rows:
            kind = "top" if toplevel else "nested"
            print(
                f"  {kind:6} {calls / BETS:9.2f} {exec_ms:8.3f} {plan_ms:8.3f} {records:8.1f} {wal_bytes:7.0f}"
                f"  {query[:150]}"
            )
        cursor.execute(
            "SELECT funcname, calls, total_time / calls, self_time / calls FROM pg_stat_user_functions"
            " WHERE calls > 0 ORDER BY total_time DESC LIMIT %s",
            [TOP],
        )
        print("\n--- pg_stat_user_functions (track_functions = all): the function and its triggers ---")
        for name, calls, total_ms, self_ms in cursor.fetchall():
            print(
                f"  {name:<40} {calls / BETS:6.2f} calls/bet  total {total_ms:7.3f} ms  self {self_ms:7.3f} ms"
            )
        cursor.execute(
            "SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync, wal_write_time, wal_sync_time"
            " FROM pg_stat_wal"
        )
        records, fpi, wal_bytes, writes, syncs, write_ms, sync_ms = cursor.fetchone()
        print("\n--- pg_stat_wal (the whole server: the placements and the warm-up's stragglers) ---")
        print(
            f"  per placement: {records / BETS:.1f} WAL records ({fpi / BETS:.2f} full pages), "
            f"{float(wal_bytes) / BETS:,.0f} bytes, {writes / BETS:.2f} writes, {syncs / BETS:.2f} flushes; "
            f"write {write_ms / BETS:.3f} ms, flush {sync_ms / BETS:.3f} ms (track_wal_io_timing)"
        )


if __name__ == "__main__":
    sys.exit(main())
