"""Betting benchmark: placements over HTTP against a real ASGI server, and settlement by one
Celery worker, each printed beside pgbench's TPC-B-like rate on the same PostgreSQL.

1. Placement: uvicorn (BENCH_UVICORN_WORKERS processes) on a free port; BENCH_CLIENTS
   concurrent HTTP clients post `POST /api/v1/bets/` (token auth, a fresh Idempotency-Key
   each) for BENCH_SECONDS as BENCH_USERS different bettors. Placements/s, p50 and p99.
   Target: >= 25% of pgbench with p99 < 150 ms.
2. Settlement: BENCH_PENDING (100,000) pending bets on a finished event, then one Celery
   worker (solo pool, the `settlement` queue) runs `settle_due_bets_task`; bets settled/s
   from the task's start until none is pending. Target: >= 100% of pgbench.

The pending bets are written in bulk for speed (bets and legs with bulk_create, their stake
holds as BET_PLACED ledger transactions in set-based SQL that books exactly what
`wallet_hold` books: cash -> holds, balanced entries, balances moved); placing 100,000 bets
one by one would take longer than the benchmark itself. `ledger_check` runs at the end.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import BASE_DIR, line, percentile, pgbench_tps, setup_django

USERS = int(os.environ.get("BENCH_USERS", "200"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
UVICORN_WORKERS = int(os.environ.get("BENCH_UVICORN_WORKERS", "4"))
PENDING = int(os.environ.get("BENCH_PENDING", "100000"))
BATCH = int(os.environ.get("BENCH_SETTLE_BATCH", "1000"))
STAKE_MINOR = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def start_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "betthat.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(UVICORN_WORKERS),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=server_env(),
    )
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("uvicorn did not start")


async def load(port: int, bettors, selections, seconds: float, warmup: float = 3.0):
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
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
                outcome_id, book, price = selections[n % len(selections)]
                body = {
                    "legs": [{"outcome_id": outcome_id, "sportsbook": book, "odds_decimal": price}],
                    "stake": "1.00",
                    "currency": "USD",
                    "accept_price_change": "better",
                }
                began = time.perf_counter()
                response = await http.post(
                    "/api/v1/bets/",
                    json=body,
                    headers={"Authorization": f"Token {token}", "Idempotency-Key": uuid.uuid4().hex},
                )
                ended = time.perf_counter()
                if began >= measure_from and ended <= stop:
                    latencies.append((ended - began) * 1000)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    if response.status_code != 201:
                        code = response.json().get("error", {}).get("code", "?")
                        errors[code] = errors.get(code, 0) + 1

    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    return latencies, statuses, errors


def bench_placement(run: str, baseline: float) -> None:
    from tests.betting.factories import make_game

    print(f"  setting up {USERS} funded bettors and 4 games ...", flush=True)
    bettors = make_bettors(run, USERS)
    games = [make_game(home=f"Home{i}-{run}", away=f"Away{i}-{run}") for i in range(4)]
    from edges.models import OddsQuote

    selections = []
    for game in games:
        for alias in ("home_ml", "away_ml", "over", "under", "home_spread", "away_spread"):
            quote = OddsQuote.objects.get(outcome=game.o(alias), sportsbook__key="draftkings")
            selections.append((game.o(alias).pk, "draftkings", str(quote.price_decimal)))
    port = free_port()
    server = start_server(port)
    try:
        latencies, statuses, errors = asyncio.run(load(port, bettors, selections, SECONDS))
    finally:
        server.terminate()
        server.wait(timeout=20)
    placed = statuses.get(201, 0)
    rate = placed / SECONDS
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(
        f"  {len(latencies)} requests in {SECONDS:.0f}s from {CLIENTS} clients as {USERS} bettors, "
        f"{UVICORN_WORKERS} uvicorn workers; statuses {statuses}" + (f", errors {errors}" if errors else ""),
        flush=True,
    )
    line(
        "bet placements over HTTP",
        rate,
        "bets/s",
        baseline=baseline,
        target=">= 25% of pgbench",
        ok=rate >= 0.25 * baseline,
    )
    line("placement latency p50", p50, "ms")
    line("placement latency p99", p99, "ms", target="< 150 ms", ok=p99 < 150)


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


def seed_pending(run: str, bettors, game) -> tuple[int, int]:
    from django.db import connection, transaction
    from django.utils import timezone

    from betting import grading
    from betting.models import Bet, BetLeg

    outcomes = [game.o("home_ml"), game.o("away_ml")]
    prices = {o.pk: o.quotes.get(sportsbook__key="draftkings").price_decimal for o in outcomes}
    now = timezone.now()
    first = last = None
    chunk = 5000
    made = 0
    while made < PENDING:
        size = min(chunk, PENDING - made)
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
                        odds_american=grading.american_from_decimal(price),
                        potential_return_minor=grading.potential_return_minor(STAKE_MINOR, price),
                        sportsbook_id="draftkings",
                        external_id=f"bench-{run}-{made + index}",
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
        print(f"    {made:,} pending bets written", flush=True)
    return first, last


def start_worker() -> subprocess.Popen:
    env = server_env()
    env["CONN_MAX_AGE"] = "0"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "betthat",
            "worker",
            "-Q",
            "settlement",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench-settle-{uuid.uuid4().hex[:6]}@%h",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc


def bench_settlement(run: str, baseline: float) -> None:
    from django.core.management import call_command

    from betting.models import Bet
    from betting.tasks import settle_due_bets_task
    from edges.models import Event
    from edges.services import event_record_result
    from tests.betting.factories import make_game

    print(f"  writing {PENDING:,} pending bets ...", flush=True)
    bettors = make_bettors(f"{run}s", 50)
    game = make_game(home=f"SettleHome-{run}", away=f"SettleAway-{run}")
    low, high = seed_pending(run, bettors, game)
    Event.objects.filter(pk=game.event.pk).update(commence_time=game.event.commence_time.replace(year=2000))
    event_record_result(event_id=game.event.pk, home_score=27, away_score=20)
    worker = start_worker()
    try:
        time.sleep(4)  # worker boot
        pending = Bet.objects.filter(pk__range=(low, high), status="pending")
        began = time.perf_counter()
        settle_due_bets_task.apply_async(kwargs={"event_id": game.event.pk, "batch_size": BATCH})
        while pending.exists():
            if worker.poll() is not None:
                raise RuntimeError("the settlement worker died:\n" + (worker.stdout.read() or ""))
            time.sleep(0.25)
        elapsed = time.perf_counter() - began
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
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
        target=">= 100% of pgbench",
        ok=rate >= baseline,
    )
    from io import StringIO

    out = StringIO()
    try:
        call_command("ledger_check", stdout=out, stderr=out)
        print("  ledger_check: clean", flush=True)
    except SystemExit:
        print("  ledger_check FAILED:\n" + out.getvalue(), flush=True)
        raise


def main() -> int:
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    run = uuid.uuid4().hex[:8]
    print("  measuring pgbench (TPC-B-like, 4 clients, 10 s) ...", flush=True)
    baseline = pgbench_tps(clients=4, seconds=10)
    line("pgbench TPC-B-like", baseline, "tps")
    bench_placement(run, baseline)
    bench_settlement(run, baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
