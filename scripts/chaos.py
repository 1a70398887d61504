"""`make chaos`: faults under load lose nothing.

Starts a system of its own: PostgreSQL and Redis (betthat.embedded, in CHAOS_DATA_DIR,
default .data/chaos/, wiped first), migrations, one uvicorn web process on CHAOS_WEB_PORT
(8105), one Celery worker and Celery beat. It puts a steady load on it (bet placements and
deposits over HTTP, each retried with its Idempotency-Key until it gets an answer, as a
careful client would; odds updates through the ingest path; a probe of the API every 0.2 s),
then, one at a time with steady load between them:

  1. restarts Redis             4. SIGKILLs the Celery worker in the middle of a settlement
  2. restarts PostgreSQL        5. SIGKILLs the web process
  3. (after each: recovers by itself, no restart of the others)

and finally stops the load, finishes every game and checks what it found: the API answered
503 in the error shape during each outage (never a 500 or a hang), the workers reconnected,
the outbox drained, every deposit was credited exactly once (its webhook delivered twice and
a second success event sent too), every accepted bet exists once and is settled once, and
`ledger_check` is clean. It prints what it did and what it found; exit 1 on any failure.

It only ends processes it started (by process group) and only its own servers.

    make chaos
    CHAOS_PHASE_SECONDS=5 CHAOS_OUTAGE_SECONDS=3 .venv/bin/python scripts/chaos.py
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from io import StringIO

from chaoslib.clients import stop_load, tally
from chaoslib.config import (
    BASE_DIR,
    BETTORS,
    DATA_DIR,
    GAMES,
    GIVE_UP_SECONDS,
    OUTAGE_SECONDS,
    PHASE_SECONDS,
    WEB_PORT,
    say,
)
from chaoslib.load import close_db, deposit_load, odds_load, placement_load, probe_load, results
from chaoslib.processes import Processes, Servers, wait_until
from chaoslib.world import finish, make_world, selections_for, setup_django


def steady(seconds: float, phase: str) -> None:
    tally.phase = phase
    time.sleep(seconds)


def undelivered_outbox() -> int:
    from betthat.core.models import OutboxEvent

    return OutboxEvent.objects.filter(delivered_at__isnull=True).count()


def outbox_relays_again(what: str) -> None:
    """A fresh event goes through the relay (worker + broker) within 30 s."""
    from betthat.core.models import OutboxEvent
    from betthat.core.outbox import publish

    event = publish("chaos.ping", {"after": what})
    took = wait_until(
        lambda: OutboxEvent.objects.filter(pk=event.pk, delivered_at__isnull=False).exists(),
        60,
        f"the outbox relay after {what}",
    )
    say(f"    the outbox relayed a new event {took:.1f}s later: the worker reconnected")


def main() -> int:
    findings: list[tuple[bool, str]] = []
    print("== chaos: what it did", flush=True)
    servers = Servers()
    say(f"own PostgreSQL on :{servers.pg_port} and Redis on :{servers.redis_port} under {DATA_DIR}")
    env = setup_django(servers.urls)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=BASE_DIR, env=env, check=True
    )
    say("migrated")
    procs = Processes(env)
    threads: list[threading.Thread] = []
    try:
        procs.start_web()
        procs.start_worker()
        procs.start_beat()
        say(
            f"started web :{WEB_PORT} (pid {procs.procs['web'].pid}), worker (pid {procs.procs['worker'].pid}), beat"
        )
        bettors, games = make_world()
        from bench.edges.main import Feed

        feed = Feed(events=20, seed=7)
        from edges.ingest import ingest_updates
        from edges.simulator import Simulator

        Simulator.ensure_books()
        ingest_updates(updates=feed.updates(400), events=feed.event_data())
        open_games = list(games)
        selections: dict[int, list] = {game.event.pk: selections_for(game) for game in games}

        def current_selections():
            return [s for game in open_games for s in selections[game.event.pk]]

        say(f"{BETTORS} funded bettors, {GAMES} games to bet on, 20 events whose odds move")
        base = f"http://127.0.0.1:{WEB_PORT}"
        threads = [
            threading.Thread(target=placement_load, args=(base, bettors, current_selections), daemon=True),
            threading.Thread(target=placement_load, args=(base, bettors, current_selections), daemon=True),
            threading.Thread(target=deposit_load, args=(base, bettors), daemon=True),
            threading.Thread(target=odds_load, args=(feed,), daemon=True),
            threading.Thread(target=probe_load, args=(base, bettors[0][1]), daemon=True),
        ]
        for thread in threads:
            thread.start()
        say("steady load: 2 placement clients, 1 depositor (webhooks twice), odds updates, an API probe")
        steady(PHASE_SECONDS, "steady")

        # 1. Redis
        say(f"restarting Redis ({OUTAGE_SECONDS:.0f}s down)")
        servers.restart_redis(OUTAGE_SECONDS, during=lambda: setattr(tally, "phase", "redis down"))
        tally.phase = "redis back"
        say("Redis is back")
        outbox_relays_again("the Redis restart")
        steady(PHASE_SECONDS, "redis back")

        # 2. PostgreSQL
        say(f"restarting PostgreSQL ({OUTAGE_SECONDS:.0f}s down)")
        servers.restart_postgres(OUTAGE_SECONDS, during=lambda: setattr(tally, "phase", "postgres down"))
        tally.phase = "postgres back"
        close_db()
        say("PostgreSQL is back")
        outbox_relays_again("the PostgreSQL restart")
        steady(PHASE_SECONDS, "postgres back")

        # 3. the Celery worker, in the middle of a settlement
        first = open_games.pop(0)
        from betting.models import Bet

        pending_first = Bet.objects.filter(event_id=first.event.pk, status="pending").count()
        finish(first)
        say(f"finished game 1 ({pending_first} pending bets): settlement runs in batches of 20")
        with contextlib.suppress(RuntimeError):
            wait_until(
                lambda: Bet.objects.filter(event_id=first.event.pk).exclude(status="pending").exists(),
                20,
                "the first settled bets",
            )
        settled_before = Bet.objects.filter(event_id=first.event.pk).exclude(status="pending").count()
        tally.phase = "worker killed"
        pid = procs.kill("worker")
        say(f"SIGKILLed the Celery worker (pid {pid}) after {settled_before} of {pending_first} bets settled")
        time.sleep(2)
        procs.start_worker()
        say(f"started a new worker (pid {procs.procs['worker'].pid})")
        outbox_relays_again("the worker was killed")
        steady(PHASE_SECONDS, "worker back")

        # 4. the web process
        tally.phase = "web killed"
        pid = procs.kill("web")
        say(f"SIGKILLed the web process (pid {pid}); clients retry with their keys")
        time.sleep(2)
        procs.start_web()
        tally.phase = "web back"
        say(f"started a new web process (pid {procs.procs['web'].pid})")
        steady(PHASE_SECONDS, "web back")

        # drain
        stop_load.set()
        tally.phase = "drain"
        for thread in threads:
            thread.join(timeout=GIVE_UP_SECONDS + 30)
        say("load stopped; finishing the other games")
        for game in open_games:
            finish(game)
        open_games.clear()
        from betthat.core.tasks import relay_outbox_task

        relay_outbox_task.apply_async()
        with contextlib.suppress(RuntimeError):
            wait_until(lambda: not Bet.objects.filter(status="pending").exists(), 120, "every bet settled")
        with contextlib.suppress(RuntimeError):
            wait_until(lambda: undelivered_outbox() == 0, 60, "the outbox to drain")
        findings.extend(check(servers, pending_first, settled_before))
    finally:
        stop_load.set()
        procs.stop_all()
        close_db()
        servers.stop()
        say("stopped our processes and servers")

    print("\n== chaos: what it found", flush=True)
    for ok, text in findings:
        print(f"  [{'PASS' if ok else 'FAIL'}] {text}", flush=True)
    if tally.bad_samples:
        print("  samples of bad answers:", *tally.bad_samples, sep="\n    ")
    print(f"  logs: {DATA_DIR}/*.log", flush=True)
    return 0 if all(ok for ok, _ in findings) else 1


def check(servers: Servers, pending_first: int, settled_before: int) -> list[tuple[bool, str]]:
    from django.core.management import call_command
    from django.db.models import Count, Q

    from betting.models import Bet
    from wallet.models import Payment, Transaction

    findings: list[tuple[bool, str]] = []
    print("  answers seen by the clients, per phase:", flush=True)
    for phase, counts in tally.seen.items():
        print(f"    {phase:<14} {dict(sorted(counts.items()))}", flush=True)
    for phase in ("redis down", "postgres down"):
        counts = tally.seen.get(phase, Counter())
        proper = counts["outage"]
        improper = counts["bad"] + counts["hang"]
        findings.append(
            (
                proper > 0 and improper == 0,
                f"{phase}: the API answered 503 service_unavailable in the error shape {proper} times, "
                f"{improper} other 5xx or hangs",
            )
        )
    anywhere = sum(c["bad"] + c["hang"] for c in tally.seen.values())
    findings.append((anywhere == 0, f"no 500 and no hang in the whole run ({anywhere})"))
    killed = tally.seen.get("web killed", Counter())
    findings.append(
        (
            killed["bad"] == 0,
            f"web process killed: {killed['down']} requests found no server and were retried by the client",
        )
    )

    backlog = undelivered_outbox()
    findings.append((backlog == 0, f"outbox drained: {backlog} events not relayed at the end"))

    # deposits: each key once, each payment credited exactly once, none left pending
    started = {key: user for key, (user, outcome, _tries) in results.deposits.items() if outcome == "started"}
    payments = Payment.objects.filter(idempotency_key__in=list(started)).annotate(
        credits=Count(
            "transactions", filter=Q(transactions__type="DEPOSIT", transactions__status="completed")
        )
    )
    by_key = defaultdict(list)
    for payment in payments:
        by_key[payment.idempotency_key].append(payment)
    missing = [key for key in started if not by_key.get(key)]
    doubled_payments = [key for key, rows in by_key.items() if len(rows) > 1]
    twice = [p.pk for rows in by_key.values() for p in rows if p.credits > 1]
    uncredited = [p.pk for rows in by_key.values() for p in rows if p.credits == 0 or p.status != "succeeded"]
    gave_up = sum(1 for _u, outcome, _t in results.deposits.values() if outcome == "gave_up")
    findings.append(
        (
            not (missing or doubled_payments or twice or uncredited),
            f"deposits: {len(started)} started ({gave_up} given up by the client), {results.webhooks_sent} webhook "
            f"deliveries; credited twice {len(twice)}, lost or uncredited {len(uncredited) + len(missing)}, "
            f"one key opening two payments {len(doubled_payments)}",
        )
    )

    # bets: each accepted key stored once; each settled once; none left pending
    accepted = {key for key, (_u, outcome, _t) in results.placements.items() if outcome == "accepted"}
    stored = Counter(
        Bet.objects.filter(idempotency_key__in=list(accepted)).values_list("idempotency_key", flat=True)
    )
    lost_bets = len(accepted - set(stored))
    duplicated = sum(1 for n in stored.values() if n > 1)
    refused = Counter(outcome for _u, outcome, _t in results.placements.values() if outcome != "accepted")
    retried = sum(1 for _u, _o, tries in results.placements.values() if tries > 1)
    findings.append(
        (
            lost_bets == 0 and duplicated == 0,
            f"bets: {len(accepted)} accepted ({retried} needed retries), lost {lost_bets}, stored twice "
            f"{duplicated}; other answers {dict(refused)}",
        )
    )
    pending = Bet.objects.filter(status="pending").count()
    settled_once = (
        Transaction.objects.filter(type__in=["BET_PAYOUT", "BET_REFUND"], bet_id__isnull=False)
        .values("bet_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    findings.append(
        (
            pending == 0 and settled_once == 0,
            f"settlement: the worker was killed after {settled_before} of {pending_first} bets of game 1; at the "
            f"end {pending} bets pending, {settled_once} settled twice",
        )
    )
    findings.append(
        (
            results.odds_batches > 0,
            f"odds: {results.odds_batches} batches of 40 updates ingested, {results.odds_errors} failed during outages",
        )
    )
    out = StringIO()
    try:
        call_command("ledger_check", stdout=out, stderr=out)
        clean = True
    except SystemExit as exit_:  # ledger_check exits 1 on a violation
        clean = exit_.code in (0, None)
    except Exception as error:
        out.write(repr(error))
        clean = False
    findings.append((clean, "ledger_check clean" if clean else "ledger_check FAILED:\n" + out.getvalue()))
    return findings


if __name__ == "__main__":
    sys.exit(main())
