"""Betting benchmark: placements over HTTP against a real ASGI server, and settlement by one
Celery worker, each printed beside pgbench's TPC-B-like rate on the same PostgreSQL.

1. Placement: uvicorn (BENCH_UVICORN_WORKERS processes, BENCH_HTTP_THREADS threads each) on
   a free port; BENCH_CLIENTS keep-alive connections post `POST /api/v1/bets/` (token auth,
   a fresh Idempotency-Key each) as BENCH_USERS different bettors, first for BENCH_WARMUP
   seconds (not measured), then for BENCH_SECONDS. The load comes from `wrk` with a Lua
   script (C, a few % of a core) when it is installed, else from httpx in this process
   (which costs the server a good part of a core: say which in the output). Placements/s,
   p50 and p99, beside pgbench run with the same number of clients just before. The
   sandbox venue fills at once (its optional delay, setting BETTING_SANDBOX_DELAY_MS, is 0
   unless configured, and the server here does not configure it).
   Beside it, in the same run with the same clients, tokens and server: the framework's
   floor, an authenticated no-op `POST /api/v1/bench/noop/` (token auth, the throttles, the
   JSON parser, one database round trip; betthat/core/bench_api.py, mounted because the
   server runs with BENCH_NOOP_API=true). Every placement figure is printed beside the floor
   and beside pgbench. Targets (issue 14): >= 40% of the floor, >= 10% of pgbench, p99 < 100 ms.
2. Settlement: BENCH_PENDING (100,000) pending bets on a finished event, then one Celery
   worker (solo pool, the `settlement` queue) runs `settle_due_bets_task`; bets settled/s
   from the task's start until none is pending. Target: >= 120% of pgbench.
3. Kick-off: BENCH_KICKOFF (5,000 then 100,000) open bets on one event that starts; the
   workers of scripts/run.py (one on default/odds/settlement, concurrency 2, one on the
   `closing` queue and one on `email`) run `capture_closing_lines_task`; the time until every bet has its CLV
   decided, and meanwhile a sandbox deposit every BENCH_DEPOSIT_EVERY seconds and its time
   from `wallet_deposit_start` and the checkout's "Pay" until credited (the sandbox's
   webhooks are delivered 0.3 s after "Pay" by a task on the default queue). Targets: < 5 s / < 60 s, deposits p99 < 2 s.

The pending bets are written in bulk for speed (bets and legs with bulk_create, their stake
holds as BET_PLACED ledger transactions in set-based SQL that books exactly what
`wallet_hold` books: cash -> holds, balanced entries, balances moved); placing 100,000 bets
one by one would take longer than the benchmark itself. `ledger_check` runs at the end.

Everything runs in a database of its own (bench.common.bench_database), dropped at the end:
the bettors, games and bets never reach the application's database.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (
    BASE_DIR,
    bench_database,
    line,
    percentile,
    pgbench_tps,
    size,
    start_uvicorn,
    stop_group,
)

USERS = int(size("BENCH_USERS", "200", "4"))
CLIENTS = int(size("BENCH_CLIENTS", "8", "2"))
SECONDS = float(size("BENCH_SECONDS", "20", "1"))
WARMUP = float(size("BENCH_WARMUP", "5", "0.5"))
# 2 cores: one uvicorn process per core; a few threads each overlap the database round trips.
UVICORN_WORKERS = int(size("BENCH_UVICORN_WORKERS", "2", "1"))
HTTP_THREADS = int(size("BENCH_HTTP_THREADS", "4", "2"))
WRK_THREADS = min(2, CLIENTS)
LOADGEN = os.environ.get("BENCH_LOADGEN", "wrk" if shutil.which("wrk") else "httpx")
PENDING = int(size("BENCH_PENDING", "100000", "40"))
BATCH = int(size("BENCH_SETTLE_BATCH", "1000", "15"))
# The settlement and kick-off runs spread their bets over this many bettors.
SIDE_BETTORS = int(size("BENCH_SIDE_BETTORS", "50", "3"))
KICKOFF = [int(n) for n in size("BENCH_KICKOFF", "5000,100000", "20").split(",") if n]
DEPOSIT_EVERY = float(os.environ.get("BENCH_DEPOSIT_EVERY", "0.5"))
# Which parts to run (comma-separated): placement, settlement, kickoff.
PARTS = set(os.environ.get("BENCH_PARTS", "placement,settlement,kickoff").split(","))
# The games are made before the run; their quotes must stay fresh for all of it.
BENCH_FRESHNESS_SECONDS = 24 * 3600
NOOP_PATH = "/api/v1/bench/noop/"
BETS_PATH = "/api/v1/bets/"
STAKE_MINOR = 100


def server_env() -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "THROTTLE_USER": "100000000/min",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "600",
            "BENCH_NOOP_API": "true",
        }
    )
    return env


def make_bettors(run: str, count: int):
    from django.db import transaction

    from betthat.users.models import User
    from betthat.users.services import user_token_get_or_create
    from wallet.services import wallet_deposit_complete, wallet_deposit_start

    bettors = []
    for index in range(count):
        with transaction.atomic():
            user = User.objects.create_user(
                email=f"bench-{run}-{index}@bench.local",
                password=None,
                status=User.Status.ACTIVE,
                verification_level=User.VerificationLevel.IDENTITY,
                max_bet_size=Decimal("100000.00"),
                daily_bet_limit=Decimal("10000000.00"),
                monthly_bet_limit=Decimal("100000000.00"),
            )
        payment = wallet_deposit_start(
            user=user, amount_minor=100_000_000, currency="USD", provider="sandbox"
        )
        wallet_deposit_complete(payment=payment)
        bettors.append((user, user_token_get_or_create(user=user)))
    return bettors


# --- placement over HTTP ------------------------------------------------------------------


def start_server() -> tuple[subprocess.Popen, int]:
    env = server_env()
    env["HTTP_THREADS"] = str(HTTP_THREADS)
    return start_uvicorn(env, workers=UVICORN_WORKERS)


def placement_body(selection) -> dict:
    outcome_id, book, price = selection
    return {
        "legs": [{"outcome_id": outcome_id, "sportsbook": book, "odds_decimal": price}],
        "stake": "1.00",
        "currency": "USD",
        "accept_price_change": "better",
    }


WRK_SCRIPT = """
local tokens = {%(tokens)s}
local bodies = {%(bodies)s}
local threads = {}
-- setup() runs in the main Lua state; each thread has a state of its own, where `threads` stays
-- empty: the thread count is written into the script, so thread k sends requests k, k + T, ...
-- and the requests go round every bettor and every body, not one of each per thread.
local thread_count = %(threads)d
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end
function init(args)
  salt = args[1]
  counter = 0
  codes = {}
end
function request()
  counter = counter + 1
  local n = (counter - 1) * thread_count + id
  return wrk.format("POST", "%(path)s", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Token " .. tokens[(n %% #tokens) + 1],
    ["Idempotency-Key"] = salt .. "-" .. id .. "-" .. counter,
  }, bodies[(n %% #bodies) + 1])
end
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
  if status >= 400 and not shown then
    shown = true
    io.stderr:write("wrk: first answer ", status, ": ", body, "\\n")
  end
end
function done(summary, latency, requests)
  local parts = {}
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("codes")) do
      parts[#parts + 1] = string.format('"%%d": %%d', code, count)
    end
  end
  io.write(string.format(
    'WRK_RESULT {"seconds": %%f, "requests": %%d, "p50_us": %%d, "p99_us": %%d, "codes": [{%%s}],' ..
    ' "socket_errors": %%d}\\n',
    summary.duration / 1e6, summary.requests, latency:percentile(50), latency:percentile(99),
    table.concat(parts, "}, {"),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk_run(script: str, port: int, seconds: float, salt: str) -> dict:
    result = subprocess.run(
        [
            "wrk",
            "-t",
            str(WRK_THREADS),
            "-c",
            str(CLIENTS),
            "-d",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            script,
            f"http://127.0.0.1:{port}",
            "--",
            salt,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    for row in result.stderr.splitlines()[:4]:
        print(f"  {row[:300]}", flush=True)
    match = re.search(r"WRK_RESULT (.*)", result.stdout)
    if not match:
        raise RuntimeError("wrk printed no result:\n" + result.stdout + result.stderr)
    data = json.loads(match.group(1))
    statuses: dict[int, int] = {}
    for part in data["codes"]:
        for code, count in part.items():
            statuses[int(code)] = statuses.get(int(code), 0) + count
    data["statuses"] = statuses
    return data


def load_wrk(port: int, bettors, selections, run: str, path: str = BETS_PATH) -> dict:
    tokens = ", ".join(json.dumps(token) for _user, token in bettors)
    bodies = ", ".join("[[" + json.dumps(placement_body(s), separators=(",", ":")) + "]]" for s in selections)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(WRK_SCRIPT % {"tokens": tokens, "bodies": bodies, "path": path, "threads": WRK_THREADS})
        script = handle.name
    try:
        wrk_run(script, port, WARMUP, f"{run}w")
        return wrk_run(script, port, SECONDS, f"{run}m")
    finally:
        os.unlink(script)


async def load_httpx(port: int, bettors, selections, seconds: float, warmup: float, path: str = BETS_PATH):
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = {"n": 0}
    start = time.perf_counter()
    measure_from = start + warmup
    stop = measure_from + seconds

    async def client(worker: int) -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            while time.perf_counter() < stop:
                counter["n"] += 1
                n = counter["n"]
                _user, token = bettors[n % len(bettors)]
                began = time.perf_counter()
                response = await http.post(
                    path,
                    json=placement_body(selections[n % len(selections)]),
                    headers={"Authorization": f"Token {token}", "Idempotency-Key": uuid.uuid4().hex},
                )
                ended = time.perf_counter()
                if began >= measure_from and ended <= stop:
                    latencies.append((ended - began) * 1000)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    return {
        "seconds": seconds,
        "requests": len(latencies),
        "p50_us": percentile(latencies, 50) * 1000,
        "p99_us": percentile(latencies, 99) * 1000,
        "statuses": statuses,
        "socket_errors": 0,
    }


def bench_placement(run: str, baseline: float) -> None:
    from betting.models import Bet
    from tests.betting.factories import make_game

    print(f"  setting up {USERS} funded bettors and 4 games ...", flush=True)
    bettors = make_bettors(run, USERS)
    games = [make_game(home=f"Home{i}-{run}", away=f"Away{i}-{run}") for i in range(4)]
    from edges.models import OddsQuote, Sportsbook

    # A run longer than a book's freshness (60 s in the factories) would answer stale_price.
    Sportsbook.objects.update(freshness_seconds=BENCH_FRESHNESS_SECONDS)

    selections = []
    for game in games:
        for alias in ("home_ml", "away_ml", "over", "under", "home_spread", "away_spread"):
            quote = OddsQuote.objects.get(outcome=game.o(alias), sportsbook__key="draftkings")
            selections.append((game.o(alias).pk, "draftkings", str(quote.price_decimal)))
    print(f"  measuring pgbench with the placement's {CLIENTS} clients (10 s) ...", flush=True)
    baseline = pgbench_tps(clients=CLIENTS, seconds=10)
    line(f"pgbench TPC-B-like, {CLIENTS} clients", baseline, "tps")
    bettor_ids = [user.pk for user, _token in bettors]
    server, port = start_server()
    try:
        # The floor first, then the placements: same server, clients, tokens and bodies.
        floor = run_load(port, bettors, selections, f"{run}n", NOOP_PATH)
        result = run_load(port, bettors, selections, run, BETS_PATH)
    finally:
        stop_group(server)
    floor_ok = floor["statuses"].get(200, 0)
    floor_rate = floor_ok / floor["seconds"]
    floor_p50, floor_p99 = floor["p50_us"] / 1000, floor["p99_us"] / 1000
    print(
        f"  floor: {floor['requests']} no-op POSTs in {floor['seconds']:.1f}s, statuses {floor['statuses']}, "
        f"socket errors {floor['socket_errors']}",
        flush=True,
    )
    statuses = result["statuses"]
    placed = statuses.get(201, 0)
    in_database = Bet.objects.filter(user_id__in=bettor_ids).count()
    rate = placed / result["seconds"]
    p50, p99 = result["p50_us"] / 1000, result["p99_us"] / 1000
    print(
        f"  {result['requests']} requests in {result['seconds']:.1f}s (after {WARMUP:.0f}s of warm-up) from "
        f"{CLIENTS} keep-alive connections ({LOADGEN}) as {USERS} bettors; {UVICORN_WORKERS} uvicorn "
        f"workers x {HTTP_THREADS} threads; statuses {statuses}, socket errors {result['socket_errors']}; "
        f"{in_database} bets in the database (warm-up included)",
        flush=True,
    )
    line(f"authenticated no-op POST (the floor), {CLIENTS} clients", floor_rate, "req/s", baseline=baseline)
    line(
        "bet placements over HTTP",
        rate,
        "bets/s",
        baseline=baseline,
        target=">= 10% of pgbench",
        ok=rate >= 0.10 * baseline,
    )
    share = rate / floor_rate if floor_rate else 0.0
    print(
        f"  {'bet placements / no-op POST floor':<52} {share:>12.1%} {'':<10}  "
        f"({rate:,.1f} of {floor_rate:,.1f} req/s)  target >= 40%{'  PASS' if share >= 0.40 else '  MISS'}",
        flush=True,
    )
    line("no-op POST latency p50 (the floor)", floor_p50, "ms")
    line("placement latency p50", p50, "ms")
    line("no-op POST latency p99 (the floor)", floor_p99, "ms")
    line("placement latency p99", p99, "ms", target="< 100 ms", ok=p99 < 100)
    # Every answered placement booked its fill (which commits without waiting for the disk):
    # none is left `placing` for the recovery sweep, and the holds balance.
    placing = Bet.objects.filter(user_id__in=bettor_ids, status=Bet.Status.PLACING).count()
    print(f"  bets left placing after the run: {placing}", flush=True)
    check_ledger()


def run_load(port: int, bettors, selections, run: str, path: str) -> dict:
    if LOADGEN == "wrk":
        return load_wrk(port, bettors, selections, run, path)
    return asyncio.run(load_httpx(port, bettors, selections, SECONDS, WARMUP, path))


# --- settlement by one worker --------------------------------------------------------------


HOLDS_SQL = """
WITH tx AS (
    INSERT INTO wallet_transaction (user_id, currency, created_at, updated_at, type, status, amount_minor,
        fee_minor, bet_id, payment_id, sportsbook_id, processing_attempts, last_error, external_reference,
        idempotency_key, reason, created_by_id, completed_at)
    SELECT b.user_id, b.currency, now(), now(), 'BET_PLACED', 'completed', b.stake_minor, 0, b.id, NULL,
           b.sportsbook_id, 0, '', '', '', '', NULL, now()
      FROM betting_bet b
     WHERE b.id BETWEEN %(low)s AND %(high)s
    RETURNING id, user_id, amount_minor, bet_id
)
INSERT INTO wallet_ledgerentry (transaction_id, account_id, amount_minor, entry_type, ref_type, ref_id, created_at)
SELECT tx.id, a.id, CASE WHEN a.kind = 'cash' THEN -tx.amount_minor ELSE tx.amount_minor END, 'HOLD', 'bet',
       tx.bet_id::text, now()
  FROM tx JOIN wallet_account a ON a.user_id = tx.user_id AND a.currency = 'USD' AND a.kind IN ('cash', 'holds')
"""

BALANCES_SQL = """
UPDATE wallet_account a
   SET balance_minor = a.balance_minor + CASE WHEN a.kind = 'cash' THEN -s.total ELSE s.total END, updated_at = now()
  FROM (SELECT user_id, sum(stake_minor) AS total FROM betting_bet WHERE id BETWEEN %(low)s AND %(high)s
        GROUP BY user_id) s
 WHERE a.user_id = s.user_id AND a.currency = 'USD' AND a.kind IN ('cash', 'holds')
"""


def seed_pending(run: str, bettors, game, count: int = PENDING) -> tuple[int, int]:
    from django.db import connection, transaction
    from django.utils import timezone

    from betthat.core.odds import decimal_to_american
    from betting import grading
    from betting.models import Bet, BetLeg

    outcomes = [game.o("home_ml"), game.o("away_ml")]
    prices = {o.pk: o.quotes.get(sportsbook__key="draftkings").price_decimal for o in outcomes}
    now = timezone.now()
    first = last = None
    chunk = 5000
    made = 0
    while made < count:
        size = min(chunk, count - made)
        with transaction.atomic():
            bets = []
            picks = []
            for index in range(size):
                user = bettors[(made + index) % len(bettors)][0]
                outcome = outcomes[(made + index) % 2]
                price = prices[outcome.pk]
                picks.append(outcome)
                bets.append(
                    Bet(
                        user_id=user.pk,
                        event_id=game.event.pk,
                        kind="straight",
                        market_type="moneyline",
                        sport_key=game.event.sport.key,
                        currency="USD",
                        stake_minor=STAKE_MINOR,
                        odds_decimal=price,
                        odds_american=decimal_to_american(price),
                        potential_return_minor=grading.potential_return_minor(STAKE_MINOR, price),
                        sportsbook_id="draftkings",
                        external_id=f"bench-{run}-{game.event.pk}-{made + index}",
                        placed_at=now,
                        created_at=now,
                    )
                )
            Bet.objects.bulk_create(bets, batch_size=chunk)
            BetLeg.objects.bulk_create(
                [
                    BetLeg(
                        bet_id=bet.pk,
                        position=0,
                        event_id=game.event.pk,
                        market_id=outcome.market_id,
                        outcome_id=outcome.pk,
                        price_decimal=prices[outcome.pk],
                        leg_type="straight",
                        attributes={"market_key": "h2h", "outcome_name": outcome.name, "player": ""},
                    )
                    for bet, outcome in zip(bets, picks, strict=True)
                ],
                batch_size=chunk,
            )
            low, high = bets[0].pk, bets[-1].pk
            with connection.cursor() as cursor:
                cursor.execute(HOLDS_SQL, {"low": low, "high": high})
                cursor.execute(BALANCES_SQL, {"low": low, "high": high})
        first = low if first is None else first
        last = high
        made += size
        if made % 20000 == 0 or made == count:
            print(f"    {made:,} pending bets written", flush=True)
    return first, last


def start_worker(
    queues: str = "settlement", pool: list[str] | None = None, name: str = "settle"
) -> subprocess.Popen:
    env = server_env()
    env["CONN_MAX_AGE"] = "0"
    log = tempfile.NamedTemporaryFile("w", prefix=f"bench-{name}-", suffix=".log", delete=False)  # noqa: SIM115
    nodename = f"bench-{name}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "betthat",
            "worker",
            "-Q",
            queues,
            *(pool or ["--pool", "solo"]),
            "--loglevel",
            os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            nodename,
        ],
        cwd=BASE_DIR,
        env=env,
        # A file, not a pipe nobody reads: a chatty worker would block on a full pipe.
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    proc.log_path = log.name  # type: ignore[attr-defined]
    _wait_until_ready(proc, nodename)
    return proc


def _wait_until_ready(proc: subprocess.Popen, nodename: str, timeout: float = 60) -> None:
    """Until the worker answers a control ping (it consumes its queues by then)."""
    from betthat.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker {nodename} died while starting:\n" + worker_log(proc))
        if app.control.ping(destination=[nodename], timeout=0.5):
            return
    stop_workers(proc)
    raise RuntimeError(f"the worker {nodename} did not answer within {timeout:.0f} s:\n" + worker_log(proc))


def stop_workers(*workers: subprocess.Popen) -> None:
    """Warm shutdown (SIGTERM) of each worker, then SIGKILL for any still running after 20 s."""
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def worker_log(proc: subprocess.Popen) -> str:
    return Path(proc.log_path).read_text(errors="replace")[-4000:]  # type: ignore[attr-defined]


def bench_settlement(run: str, baseline: float) -> None:
    from betting.models import Bet
    from betting.tasks import settle_due_bets_task
    from edges.models import Event
    from edges.services import event_record_result
    from tests.betting.factories import make_game

    print(f"  writing {PENDING:,} pending bets ...", flush=True)
    bettors = make_bettors(f"{run}s", SIDE_BETTORS)
    game = make_game(home=f"SettleHome-{run}", away=f"SettleAway-{run}")
    low, high = seed_pending(run, bettors, game)
    Event.objects.filter(pk=game.event.pk).update(commence_time=game.event.commence_time.replace(year=2000))
    event_record_result(event_id=game.event.pk, home_score=27, away_score=20)
    # pgbench again, just before the settlement: the machine's load moves within a run.
    print("  measuring pgbench again, just before the settlement (4 clients, 10 s) ...", flush=True)
    baseline = pgbench_tps(clients=4, seconds=10)
    line("pgbench TPC-B-like, just before the settlement", baseline, "tps")
    worker = start_worker()
    try:
        pending = Bet.objects.filter(pk__range=(low, high), status="pending")
        began = time.perf_counter()
        settle_due_bets_task.apply_async(kwargs={"event_id": game.event.pk, "batch_size": BATCH})
        while pending.exists():
            if worker.poll() is not None:
                raise RuntimeError("the settlement worker died:\n" + worker_log(worker))
            time.sleep(0.25)
        elapsed = time.perf_counter() - began
    finally:
        stop_workers(worker)
    settled = Bet.objects.filter(pk__range=(low, high)).exclude(status="pending").count()
    rate = settled / elapsed
    print(
        f"  {settled:,} bets settled in {elapsed:.1f}s by one worker (solo pool, batches of {BATCH})",
        flush=True,
    )
    line(
        "bets settled by one worker",
        rate,
        "bets/s",
        baseline=baseline,
        target=">= 120% of pgbench",
        ok=rate >= 1.2 * baseline,
    )
    check_ledger()


def check_ledger() -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    try:
        call_command("ledger_check", stdout=out, stderr=out)
        print("  ledger_check: clean", flush=True)
    except SystemExit:
        print("  ledger_check FAILED:\n" + out.getvalue(), flush=True)
        raise


# --- kick-off: closing lines for many open bets, deposits credited meanwhile ---------------


def _deposit_credited(payment_id: int) -> bool:
    from wallet.models import Transaction

    return Transaction.objects.filter(
        payment_id=payment_id, type=Transaction.Type.DEPOSIT, status=Transaction.Status.COMPLETED
    ).exists()


def kickoff_once(run: str, bettors, count: int) -> None:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from betting.models import Bet
    from betting.tasks import capture_closing_lines_task
    from edges.models import Event
    from tests.betting.factories import make_game
    from wallet.providers import sandbox
    from wallet.services import wallet_deposit_start

    game = make_game(home=f"KickHome{count}-{run}", away=f"KickAway{count}-{run}")
    print(f"  kick-off with {count:,} open bets on one event: writing them ...", flush=True)
    low, high = seed_pending(f"{run}k", bettors, game, count)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE betting_bet; ANALYZE betting_betleg")
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(seconds=1))
    open_bets = Bet.objects.filter(pk__range=(low, high), clv_captured_at__isnull=True)
    depositor = bettors[0][0]
    waits: list[float] = []
    outstanding: dict[int, float] = {}
    began = time.perf_counter()
    capture_closing_lines_task.apply_async(kwargs={"event_id": game.event.pk})
    next_deposit = began
    elapsed = None
    deadline = began + 600
    while time.perf_counter() < deadline:
        now = time.perf_counter()
        if elapsed is None and not open_bets.exists():
            elapsed = now - began
        if elapsed is None and now >= next_deposit:
            payment = wallet_deposit_start(
                user=depositor, amount_minor=1000, currency="USD", provider="sandbox"
            )
            # The checkout page's "Pay": the sandbox answers by webhook, through the default queue.
            sandbox.checkout_submit(payment, card_number=sandbox.SUCCESS_CARD)
            outstanding[payment.pk] = time.perf_counter()
            next_deposit = now + DEPOSIT_EVERY
        for payment_id, started in list(outstanding.items()):
            if _deposit_credited(payment_id):
                waits.append(time.perf_counter() - started)
                del outstanding[payment_id]
        if elapsed is not None and not outstanding:
            break
        time.sleep(0.05)
    for payment_id, started in outstanding.items():  # never credited: count the whole wait
        waits.append(time.perf_counter() - started)
    target = 5.0 if count <= 5000 else 60.0
    if elapsed is None:
        print(f"  the capture of {count:,} bets had not finished after 600 s", flush=True)
        elapsed = float("inf")
    decided = Bet.objects.filter(pk__range=(low, high), clv_captured_at__isnull=False).count()
    print(
        f"  {decided:,} of {count:,} bets have their CLV decided; {len(waits)} deposits meanwhile", flush=True
    )
    line(
        f"closing lines captured at kick-off, {count:,} bets",
        elapsed,
        "s",
        target=f"< {target:.0f} s",
        ok=elapsed < target,
    )
    p99 = percentile(waits, 99) if waits else float("nan")
    line(
        f"deposit credited during that kick-off, p99 ({len(waits)})",
        p99,
        "s",
        target="< 2 s",
        ok=p99 < 2,
    )


def bench_kickoff(run: str) -> None:
    bettors = make_bettors(f"{run}k", SIDE_BETTORS)
    # The workers of scripts/run.py: payments and settlement on one, the capture and the
    # notification emails (a settlement run owes one per bet) each on their own.
    main_worker = start_worker("default,odds,settlement", ["--concurrency", "2"], "main")
    started = [main_worker]
    try:
        started.append(start_worker("closing", ["--pool", "solo"], "closing"))
        started.append(start_worker("email", ["--pool", "threads", "--concurrency", "4"], "mail"))
        for count in KICKOFF:
            kickoff_once(run, bettors, count)
    finally:
        stop_workers(*started)


def main() -> int:
    with bench_database("betting"):
        return measure()


def measure() -> int:
    run = uuid.uuid4().hex[:8]
    print("  measuring pgbench (TPC-B-like, 4 clients, 10 s) ...", flush=True)
    baseline = pgbench_tps(clients=4, seconds=10)
    line("pgbench TPC-B-like", baseline, "tps")
    if "placement" in PARTS:
        bench_placement(run, baseline)
    if "settlement" in PARTS:
        bench_settlement(run, baseline)
    if "kickoff" in PARTS:
        bench_kickoff(run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
