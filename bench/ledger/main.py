"""Ledger transfers per second through the service layer, beside pgbench's TPC-B-like rate.

A "transfer" is one wallet service call that moves money between two accounts in its own
database transaction, with balanced entries, cached balances, the row locks and the outbox
event: `wallet_hold` (cash -> holds) alternating with `wallet_release` (holds -> cash).

- many accounts: WORKERS processes, each on its own slice of USERS users;
- hot account: every process on one user's cash and holds accounts.

WORKERS defaults to 2, one per core of the 2-core machine the targets are set for (more
processes only add context switches between them and their 2 server backends), and pgbench
runs with the same number of clients. The machine is shared and its load moves by a factor
of two within a minute, so the run is ROUNDS rounds of pgbench immediately followed by the
many-accounts run (each ratio compares two neighbouring measurements), then the hot account;
the median of each figure and of the paired ratios is printed, beside every round.

It runs in a database of its own (bench.common.bench_database: created and migrated at the
start, dropped at the end), so the development ledger is never polluted, on the same
PostgreSQL server as pgbench.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from bench.common import bench_database, line, pgbench_tps, size

WORKERS = int(os.environ.get("LEDGER_BENCH_WORKERS", "2"))
ROUNDS = int(size("LEDGER_BENCH_ROUNDS", "3", "1"))
SECONDS = float(size("LEDGER_BENCH_SECONDS", "8", "1"))
USERS = int(size("LEDGER_BENCH_USERS", "400", "6"))
STAKE = 100


def setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["OUTBOX_NUDGE"] = "0"
    from bench.common import setup_django

    setup_django()
    from django.conf import settings

    # The benchmark has no Celery worker: outbox rows are written (that cost is measured)
    # but nobody is nudged; the periodic relay would deliver them in production.
    settings.OUTBOX_NUDGE = False
    settings.SANDBOX_AUTO_DELIVER = False


def prepare(users: int) -> tuple[list[int], int]:
    from django.db import connection

    from betthat.users.models import User
    from wallet.services import wallet_bonus

    ids = []
    for index in range(users):
        user, created = User.objects.get_or_create(
            email=f"ledger-bench-{index}@bench.local", defaults={"status": "active", "name": f"bench {index}"}
        )
        if created:
            wallet_bonus(user=user, amount_minor=1_000_000, reason="benchmark float")
        ids.append(user.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(bet_id), 0) FROM wallet_transaction")
        next_bet = cursor.fetchone()[0] + 1
    return ids, next_bet


def worker(url, user_ids, bet_base, seconds, start_at, results):
    setup(url)
    from betthat.users.models import User
    from wallet.services import wallet_hold, wallet_release

    users = list(User.objects.filter(pk__in=user_ids))
    bet_id = bet_base
    done = 0
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.perf_counter() + seconds
    index = 0
    while time.perf_counter() < deadline:
        user = users[index % len(users)]
        index += 1
        wallet_hold(user=user, amount_minor=STAKE, currency="USD", bet_id=bet_id)
        wallet_release(user=user, amount_minor=STAKE, currency="USD", bet_id=bet_id)
        bet_id += 1
        done += 2
    results.put(done)


def run(url, slices, bet_base, seconds) -> float:
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    start_at = time.time() + 6  # let every process finish django.setup() first
    procs = [
        ctx.Process(target=worker, args=(url, ids, bet_base + i * 10_000_000, seconds, start_at, results))
        for i, ids in enumerate(slices)
    ]
    for proc in procs:
        proc.start()
    total = sum(results.get(timeout=120) for _ in procs)
    for proc in procs:
        proc.join()
    return total / seconds


def main() -> int:
    with bench_database("ledger") as url:
        return measure(url)


def measure(url: str) -> int:
    setup(url)
    user_ids, next_bet = prepare(USERS)
    from django.db import connections

    connections.close_all()
    print(
        f"  ledger bench: {WORKERS} processes x {SECONDS:.0f}s, pgbench with {WORKERS} clients, "
        f"{ROUNDS} rounds, {len(user_ids)} users",
        flush=True,
    )
    slices = [user_ids[i::WORKERS] for i in range(WORKERS)]
    baselines, manys, hots = [], [], []
    for round_no in range(ROUNDS):
        bet_base = next_bet + round_no * 1_000_000_000
        baselines.append(pgbench_tps(clients=WORKERS, seconds=int(SECONDS)))
        manys.append(run(url, slices, bet_base, SECONDS))
        hots.append(run(url, [user_ids[:1]] * WORKERS, bet_base + 500_000_000, SECONDS))
        print(
            f"  round {round_no + 1}: pgbench {baselines[-1]:,.0f} tps, many accounts {manys[-1]:,.0f}/s "
            f"({manys[-1] / baselines[-1]:.0%}), hot account {hots[-1]:,.0f}/s",
            flush=True,
        )
    baseline = statistics.median(baselines)
    many = statistics.median(manys)
    hot = statistics.median(hots)
    ratio = statistics.median(m / b for m, b in zip(manys, baselines, strict=True))

    from wallet.health import ledger_report

    report = ledger_report()
    line(f"pgbench TPC-B-like, {WORKERS} clients (median)", baseline, "tps")
    line(
        "ledger transfers, many accounts (median)",
        many,
        "transfers/s",
        baseline=baseline,
        target=">= 50% of pgbench",
        ok=ratio >= 0.5,
    )
    line("ledger transfers, one hot account (median)", hot, "transfers/s", target=">= 300/s", ok=hot >= 300)
    print(f"  ratio many-accounts / pgbench (median of the paired rounds): {ratio:.2f}", flush=True)
    print(f"  ledger_check after the run: {'clean' if report.ok else 'VIOLATED'}", flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
