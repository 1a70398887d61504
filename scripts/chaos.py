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
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from io import StringIO
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CHAOS_DATA_DIR", str(BASE_DIR / ".data" / "chaos")))
# betthat.embedded reads its data folder when imported: ours, never the application's.
os.environ["BETTHAT_DATA_DIR"] = str(DATA_DIR)
sys.path.insert(0, str(BASE_DIR))

WEB_PORT = int(os.environ.get("CHAOS_WEB_PORT", "8105"))
PHASE_SECONDS = float(os.environ.get("CHAOS_PHASE_SECONDS", "8"))
OUTAGE_SECONDS = float(os.environ.get("CHAOS_OUTAGE_SECONDS", "4"))
BETTORS = int(os.environ.get("CHAOS_BETTORS", "12"))
GAMES = 3
GIVE_UP_SECONDS = 120.0  # a client retrying one request with its key stops after this
STARTED_AT = time.monotonic()


def say(message: str) -> None:
    print(f"  t+{time.monotonic() - STARTED_AT:6.1f}s  {message}", flush=True)


# --- servers and processes (ours only) ---------------------------------------------------------


class Servers:
    """The embedded PostgreSQL and Redis in our own data folder, restartable on their ports."""

    def __init__(self) -> None:
        from betthat import embedded

        self.embedded = embedded
        if DATA_DIR.exists():
            embedded.stop()  # a previous, interrupted chaos run in the same folder
            shutil.rmtree(DATA_DIR)
        urls, self.started = embedded.start_missing()
        self.urls = urls
        state = embedded._load_state()
        self.pg_port, self.redis_port = state["pg_port"], state["redis_port"]

    def restart_redis(self, down_seconds: float, during=None) -> None:
        with self.embedded._locked():
            self.embedded._stop_redis()
        if during:
            during()
        time.sleep(down_seconds)
        with self.embedded._locked():
            self.embedded._start_redis(self.redis_port)

    def restart_postgres(self, down_seconds: float, during=None) -> None:
        with self.embedded._locked():
            self.embedded._stop_postgres()
        if during:
            during()
        time.sleep(down_seconds)
        with self.embedded._locked():
            self.embedded._start_postgres(self.pg_port)

    def stop(self) -> None:
        self.embedded.stop(self.started)


class Processes:
    """The web server, the Celery worker and beat, each in its own process group."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = DATA_DIR / f"{name}.log"
        self.logs[name] = log
        handle = open(log, "a")  # noqa: SIM115 - kept open for the child's lifetime
        proc = subprocess.Popen(
            args, cwd=BASE_DIR, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def start_web(self) -> None:
        self._spawn(
            "web",
            [
                sys.executable, "-m", "uvicorn", "betthat.asgi:application", "--host", "127.0.0.1",
                "--port", str(WEB_PORT), "--no-access-log", "--log-level", "warning",
            ],
        )  # fmt: skip
        wait_until(lambda: http_ok(f"http://127.0.0.1:{WEB_PORT}/healthz"), 60, "the web process to answer")

    def start_worker(self) -> None:
        self._spawn(
            "worker",
            [
                sys.executable, "-m", "celery", "-A", "betthat", "worker", "-Q", "default,odds,settlement",
                "--concurrency", "1", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                "-n", f"chaos-{uuid.uuid4().hex[:6]}@%h",
            ],
        )  # fmt: skip

    def start_beat(self) -> None:
        self._spawn(
            "beat",
            [
                sys.executable, "-m", "celery", "-A", "betthat", "beat", "--loglevel", "WARNING",
                "--schedule", str(DATA_DIR / "celerybeat-schedule"),
            ],
        )  # fmt: skip

    def kill(self, name: str) -> int:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        return proc.pid

    def stop_all(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for name, proc in list(self.procs.items()):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            self.procs.pop(name, None)


def wait_until(condition, seconds: float, what: str) -> float:
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        with contextlib.suppress(Exception):
            if condition():
                return time.monotonic() - began
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {seconds:.0f}s waiting for {what}")


def http_ok(url: str) -> bool:
    import httpx

    return httpx.get(url, timeout=2).status_code == 200


# --- what the clients saw ---------------------------------------------------------------------


def classify(response=None, error: Exception | None = None) -> str:
    """ok, refused (a definitive 4xx), outage (503 in the error shape), down (no server),
    hang (timed out), bad (a 5xx that is not a proper outage answer)."""
    import httpx

    if error is not None:
        if isinstance(error, httpx.TimeoutException):
            return "hang"
        return "down"
    if response.status_code < 300:
        return "ok"
    if response.status_code == 503:
        try:
            body = response.json()
        except ValueError:
            return "bad"
        if body.get("error", {}).get("code") == "service_unavailable" and response.headers.get("Retry-After"):
            return "outage"
        return "bad"
    if response.status_code < 500:
        return "refused"
    return "bad"


@dataclass
class Tally:
    phase: str = "setup"
    seen: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    bad_samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, detail: str = "") -> None:
        with self.lock:
            self.seen[self.phase][kind] += 1
            if kind in ("bad", "hang") and len(self.bad_samples) < 10:
                self.bad_samples.append(f"[{self.phase}] {kind}: {detail[:300]}")


tally = Tally()
stop_load = threading.Event()


def send(client, method: str, url: str, **kwargs):
    try:
        response = client.request(method, url, **kwargs)
    except Exception as error:
        kind = classify(error=error)
        tally.record(kind, f"{method} {url}: {error!r}")
        return kind, None
    kind = classify(response)
    tally.record(kind, f"{method} {url}: {response.status_code} {response.text[:200]}")
    return kind, response


def until_answered(client, method: str, url: str, **kwargs):
    """Retry the same request (same Idempotency-Key) until a definitive answer."""
    began = time.monotonic()
    attempts = 0
    while True:
        attempts += 1
        kind, response = send(client, method, url, **kwargs)
        if kind in ("ok", "refused"):
            return kind, response, attempts
        if time.monotonic() - began > GIVE_UP_SECONDS:
            return "gave_up", response, attempts
        time.sleep(0.3)


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Results:
    placements: dict[str, tuple[int, str, int]] = field(default_factory=dict)  # key -> (user, outcome, tries)
    deposits: dict[str, tuple[int, str, int]] = field(default_factory=dict)
    webhooks_sent: int = 0
    odds_batches: int = 0
    odds_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


results = Results()


def placement_load(base: str, bettors, selections_of) -> None:
    import httpx

    rng = random.Random(1)
    with httpx.Client(base_url=base, timeout=10) as client:
        while not stop_load.is_set():
            user_id, token = rng.choice(bettors)
            selections = selections_of()
            if not selections:
                time.sleep(0.2)
                continue
            outcome_id, book, price = rng.choice(selections)
            key = uuid.uuid4().hex
            body = {
                "legs": [{"outcome_id": outcome_id, "sportsbook": book, "odds_decimal": price}],
                "stake": "1.00",
                "currency": "USD",
                "accept_price_change": "any",
            }
            headers = {"Authorization": f"Token {token}", "Idempotency-Key": key}
            outcome, response, tries = until_answered(
                client, "POST", "/api/v1/bets/", json=body, headers=headers
            )
            label = "accepted" if outcome == "ok" else outcome
            if outcome == "refused" and response is not None:
                label = f"refused:{response.json().get('error', {}).get('code', response.status_code)}"
            with results.lock:
                results.placements[key] = (user_id, label, tries)
            time.sleep(0.08)


def deposit_load(base: str, bettors) -> None:
    import httpx

    from wallet.models import Payment
    from wallet.providers import sandbox

    rng = random.Random(2)
    with httpx.Client(base_url=base, timeout=10) as client:
        while not stop_load.is_set():
            user_id, token = rng.choice(bettors)
            key = uuid.uuid4().hex
            headers = {"Authorization": f"Token {token}", "Idempotency-Key": key}
            outcome, _response, tries = until_answered(
                client,
                "POST",
                "/api/v1/wallet/deposits/",
                json={"amount": "25.00", "currency": "USD"},
                headers=headers,
            )
            with results.lock:
                results.deposits[key] = (user_id, "started" if outcome == "ok" else outcome, tries)
            if outcome != "ok":
                continue
            payment = None
            began = time.monotonic()
            while payment is None and time.monotonic() - began < GIVE_UP_SECONDS:
                try:
                    payment = Payment.objects.get(user_id=user_id, idempotency_key=key)
                except Exception:
                    _close_db()
                    time.sleep(0.3)
            if payment is None:
                continue
            # the provider's answer: processing, success delivered twice, then a second,
            # distinct success event for the same payment; each retried until accepted
            events = sandbox.build_events(payment, outcome="succeeded")
            again = dict(events[1], id=f"evt_{uuid.uuid4().hex}")
            for event in [events[0], events[1], events[1], again]:
                raw = json.dumps(event, sort_keys=True).encode()
                until_answered(
                    client,
                    "POST",
                    "/api/v1/payments/webhooks/sandbox/",
                    content=raw,
                    headers={"Content-Type": "application/json", sandbox.SIGNATURE_HEADER: sandbox.sign(raw)},
                )
                with results.lock:
                    results.webhooks_sent += 1
            time.sleep(0.3)


def odds_load(feed) -> None:
    from edges.ingest import ingest_updates

    while not stop_load.is_set():
        try:
            ingest_updates(updates=feed.updates(40))
            with results.lock:
                results.odds_batches += 1
        except Exception:
            _close_db()
            with results.lock:
                results.odds_errors += 1
        time.sleep(0.25)


def probe_load(base: str, token: str) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=10) as client:
        while not stop_load.is_set():
            send(client, "GET", "/api/v1/me/", headers={"Authorization": f"Token {token}"})
            time.sleep(0.2)


def _close_db() -> None:
    from django.db import connections

    for conn in connections.all():
        with contextlib.suppress(Exception):
            conn.close()


# --- setup ------------------------------------------------------------------------------------


def setup_django(urls: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": urls["DATABASE_URL"],
            "REDIS_URL": urls["REDIS_URL"],
            "REDIS_KEY_PREFIX": "chaos",
            "DEBUG": "true",  # the sandbox provider and development defaults; 503s do not depend on it
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{WEB_PORT}",
            "THROTTLE_USER": "1000000/min",
            "THROTTLE_ANON": "1000000/min",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "60",
            "HTTP_THREADS": "4",
            "AUDIT_ROOT": str(DATA_DIR / "audit"),
            "MEDIA_ROOT": str(DATA_DIR / "media"),
        }
    )
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "betthat.settings"
    import django

    django.setup()
    # This process's own log lines (odds cache writes failing while Redis is down, ...) go to
    # a file: the console is for what the run did and found.
    import logging

    handler = logging.FileHandler(DATA_DIR / "orchestrator.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger().handlers = [handler]
    return env


def make_world():
    from django.db import transaction

    from betthat.users.models import User
    from betthat.users.services import user_token_get_or_create
    from tests.betting.factories import make_game
    from wallet.services import wallet_deposit_complete, wallet_deposit_start

    bettors = []
    for index in range(BETTORS):
        with transaction.atomic():
            user = User.objects.create_user(
                email=f"chaos-{index}@chaos.local",
                password=None,
                status=User.Status.ACTIVE,
                verification_level=User.VerificationLevel.IDENTITY,
                max_bet_size=Decimal("1000.00"),
                daily_bet_limit=Decimal("1000000.00"),
                monthly_bet_limit=Decimal("10000000.00"),
            )
        payment = wallet_deposit_start(user=user, amount_minor=1_000_000, currency="USD", provider="sandbox")
        wallet_deposit_complete(payment=payment)
        bettors.append((user.pk, user_token_get_or_create(user=user)))
    games = [make_game(home=f"Home {i}", away=f"Away {i}") for i in range(GAMES)]
    return bettors, games


def selections_for(game) -> list[tuple[int, str, str]]:
    from edges.models import OddsQuote

    out = []
    for alias in ("home_ml", "away_ml", "over", "under"):
        quote = OddsQuote.objects.get(outcome=game.o(alias), sportsbook__key="draftkings")
        out.append((game.o(alias).pk, "draftkings", str(quote.price_decimal)))
    return out


def finish(game) -> None:
    from django.utils import timezone

    from betting.tasks import settle_due_bets_task
    from edges.models import Event
    from edges.services import event_record_result

    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now().replace(year=2000))
    event_record_result(event_id=game.event.pk, home_score=27, away_score=20)
    settle_due_bets_task.apply_async(kwargs={"event_id": game.event.pk, "batch_size": 20})


# --- the run ----------------------------------------------------------------------------------


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
        _close_db()
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
        _close_db()
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
