"""The demo feed owns only its own events: a real event ingested beside it keeps exactly the
prices, edges and status its file gave it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from edges.feeds.odds_api import ingest_v4
from edges.models import SIMULATED_PREFIX, Edge, Event, OddsQuote, Sportsbook
from edges.simulator import Simulator
from tests.edges.factories import FILE_TIME, books, load

pytestmark = pytest.mark.django_db


def _real_state(provider_id: str):
    event = Event.objects.get(provider_id=provider_id)
    quotes = sorted(
        OddsQuote.objects.filter(outcome__market__event=event).values_list(
            "outcome__market__key",
            "outcome__name",
            "sportsbook__key",
            "price_decimal",
            "version",
            "is_suspended",
        )
    )
    edges = sorted(
        Edge.objects.filter(event=event).values_list(
            "edge_id", "kind", "status", "version", "edge_percentage", "expected_value_per_dollar"
        )
    )
    return (event.status, event.home_score, event.away_score), quotes, edges


def test_simulator_never_touches_a_real_event():
    Simulator.ensure_books()
    # quotes stay fresh for the test's few simulated minutes: any change is the simulator's
    Sportsbook.objects.update(freshness_seconds=3600)
    simulator = Simulator(events=4, seed=7, game_seconds=60, start_within=(30.0, 60.0))
    simulator.tick(now=FILE_TIME - timedelta(seconds=10))  # the demo is running
    report = ingest_v4(load("nfl_decimal.json"), now=FILE_TIME)
    assert report.quotes_accepted == 18 and report.skipped == 0
    before = _real_state("evt-kc-lac")
    assert before[0] == ("scheduled", None, None) and len(before[1]) == 18 and before[2]

    # the demo keeps running: its events are quoted, start and finish with invented scores
    finished = 0
    for seconds in range(1, 200, 7):
        finished += simulator.tick(now=FILE_TIME + timedelta(seconds=seconds))["finished"]
    assert finished > 0
    assert Event.objects.filter(provider_id__startswith=SIMULATED_PREFIX, status="final").count() == finished

    assert _real_state("evt-kc-lac") == before
    # past the real event's kick-off, the demo still does not start it (beat's lifecycle does)
    kickoff = Event.objects.get(provider_id="evt-kc-lac").commence_time
    simulator.tick(now=kickoff + timedelta(seconds=1))
    assert Event.objects.get(provider_id="evt-kc-lac").status == "scheduled"
    assert all(sim.provider_id.startswith(SIMULATED_PREFIX) for sim in simulator.events.values())


def test_a_real_feed_cannot_claim_a_simulated_provider_id():
    books()
    payload = load("nfl_decimal.json")
    payload[0]["id"] = f"{SIMULATED_PREFIX}abc"
    report = ingest_v4(payload, now=FILE_TIME)
    assert report.quotes_received == 0 and report.skipped == 1
    assert "demo feed" in report.problems[0]["reason"]
    assert not Event.objects.filter(provider_id=f"{SIMULATED_PREFIX}abc").exists()
