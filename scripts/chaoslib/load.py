"""The steady load: bet placements and deposits over HTTP (each retried with its
Idempotency-Key), odds updates through the ingest path, a probe of the API."""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

from chaoslib.clients import send, stop_load, until_answered
from chaoslib.config import GIVE_UP_SECONDS


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
                    close_db()
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
            close_db()
            with results.lock:
                results.odds_errors += 1
        time.sleep(0.25)


def probe_load(base: str, token: str) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=10) as client:
        while not stop_load.is_set():
            send(client, "GET", "/api/v1/me/", headers={"Authorization": f"Token {token}"})
            time.sleep(0.2)


def close_db() -> None:
    from django.db import connections

    for conn in connections.all():
        with contextlib.suppress(Exception):
            conn.close()
