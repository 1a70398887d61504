"""Lifecycle on a frozen clock, results, the hot cache, quote_price_current, fair prices."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from betthat.core.audit import audit_read
from betthat.core.errors import ApplicationError
from betthat.core.models import OutboxEvent
from edges import cache, selectors, services
from edges.feeds.odds_api import ingest_v4
from edges.models import Edge, Event, OddsQuote, Outcome
from tests.edges.factories import FILE_TIME, EventFactory, books, load

pytestmark = pytest.mark.django_db


def _ingest():
    books(freshness=60)
    ingest_v4(load("nfl_decimal.json"), now=FILE_TIME)


def test_edges_go_stale_when_a_quote_passes_its_books_threshold():
    _ingest()
    ev = Edge.objects.get(kind="positive_ev", side="Los Angeles Chargers")
    # resting on Pinnacle's 12:00:00 prices (60 s threshold) and DraftKings' 12:00:05
    assert ev.stale_after == FILE_TIME - timedelta(seconds=30) + timedelta(seconds=60)
    assert services.mark_stale(now=FILE_TIME + timedelta(seconds=29)) == 0
    assert Edge.objects.get(pk=ev.pk).status == "active"
    changed = services.mark_stale(now=FILE_TIME + timedelta(seconds=31))
    assert changed == Edge.objects.filter(status="stale").count() >= 1
    stale = Edge.objects.get(pk=ev.pk)
    assert stale.status == "stale" and stale.version > ev.version


def test_frozen_clock_through_timezone_now(monkeypatch):
    _ingest()
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: FILE_TIME + timedelta(minutes=5))
    result = services.edges_lifecycle_tick()
    assert result["stale"] == Edge.objects.filter(status="stale").count() > 0
    assert Edge.objects.filter(status="active").count() == 0


def test_event_start_expires_edges_and_publishes_event_started():
    _ingest()
    event = Event.objects.get(provider_id="evt-kc-lac")
    active = Edge.objects.filter(event=event, status="active").count()
    assert active == 5
    started = services.events_start_due(now=event.commence_time + timedelta(seconds=1))
    assert started == [event.pk]
    event.refresh_from_db()
    assert event.status == "live"
    assert Edge.objects.filter(event=event, status="expired").count() == active
    outbox = OutboxEvent.objects.get(event_type="event.started")
    assert outbox.payload["event_id"] == event.pk
    # an update for a started event makes no new edges
    report = ingest_v4(load("nfl_decimal.json"), now=event.commence_time + timedelta(seconds=2))
    assert report.edges_upserted == 0


def test_edges_expire_due_on_expires_at():
    _ingest()
    event = Event.objects.get(provider_id="evt-kc-lac")
    assert services.edges_expire_due(now=event.commence_time - timedelta(seconds=1)) == 0
    assert services.edges_expire_due(now=event.commence_time) == 5


def test_cleanup_expired_edges():
    _ingest()
    event = Event.objects.get(provider_id="evt-kc-lac")
    services.edges_expire_due(now=event.commence_time)
    assert services.cleanup_expired_edges(now=event.commence_time + timedelta(days=6)) == 0
    assert services.cleanup_expired_edges(now=event.commence_time + timedelta(days=8)) == 5
    assert Edge.objects.count() == 0


def test_event_record_result_stores_scores_and_publishes_once():
    event = EventFactory()
    services.event_record_result(
        event_id=event.pk,
        home_score=27,
        away_score=24,
        player_stats={"Patrick Mahomes": {"player_pass_yds": 301}},
    )
    event.refresh_from_db()
    assert (event.status, event.home_score, event.away_score) == ("final", 27, 24)
    assert event.scores == {"home": 27, "away": 24, "players": {"Patrick Mahomes": {"player_pass_yds": 301}}}
    assert OutboxEvent.objects.filter(event_type="event.finished").count() == 1
    # the same result again: nothing new
    services.event_record_result(event_id=event.pk, home_score=27, away_score=24)
    assert OutboxEvent.objects.filter(event_type="event.finished").count() == 1
    with pytest.raises(ApplicationError) as error:
        services.event_record_result(event_id=event.pk, home_score=20, away_score=24)
    assert error.value.code == "conflict"
    event.refresh_from_db()
    assert event.home_score == 27


def test_event_record_result_cancelled_and_refusals():
    event = EventFactory()
    with pytest.raises(ApplicationError) as error:
        services.event_record_result(event_id=event.pk, home_score=None, away_score=None, status="final")
    assert error.value.code == "validation_error"
    with pytest.raises(ApplicationError) as error:
        services.event_record_result(event_id=999_999, home_score=1, away_score=0)
    assert error.value.code == "not_found"
    services.event_record_result(event_id=event.pk, home_score=None, away_score=None, status="cancelled")
    assert OutboxEvent.objects.filter(event_type="event.cancelled").count() == 1


def test_quote_price_current_from_cache_and_database():
    _ingest()
    outcome = Outcome.objects.get(market__key="h2h", name="Los Angeles Chargers")
    quote = OddsQuote.objects.get(outcome=outcome, sportsbook__key="draftkings")
    market_id = outcome.market_id
    snapshot, _ = cache.snapshot_get(market_id)  # written after the ingest committed
    assert snapshot is None or snapshot["version"] >= quote.version
    assert selectors.quote_price_current(outcome_id=outcome.pk, sportsbook_key="draftkings") == (
        Decimal("2.600000"),
        quote.version,
    )
    cached, _ = cache.snapshot_get(market_id)
    assert cached["prices"][str(outcome.pk)]["draftkings"][0] == "2.600000"
    assert selectors.quote_price_current(outcome_id=outcome.pk, sportsbook_key="nobody") is None
    assert selectors.quote_price_current(outcome_id=999_999, sportsbook_key="draftkings") is None


def test_cache_versions_only_move_forward():
    assert cache.snapshot_set(42, {"version": 10, "status": "open", "prices": {}, "suspensions": []})
    assert not cache.snapshot_set(42, {"version": 9, "status": "open", "prices": {}, "suspensions": []})
    assert cache.snapshot_get(42)[0]["version"] == 10
    # even after the snapshot expires, the floor keeps an older writer out
    cache.client().delete(cache.market_key(42))
    assert not cache.snapshot_set(42, {"version": 8, "status": "open", "prices": {}, "suspensions": []})
    assert cache.snapshot_set(42, {"version": 11, "status": "open", "prices": {}, "suspensions": []})
    ttl = cache.client().pttl(cache.market_key(42))
    assert 7_000 < ttl <= 15_000


def test_cache_batch_write_keeps_each_markets_versions_moving_forward(monkeypatch):
    monkeypatch.setattr(cache, "CAS_MANY_CHUNK", 2)  # 5 markets: calls of 2, 2 and 1

    def snap(version):
        return {
            "version": version,
            "status": "open",
            "prices": {"1": {"b": ["2.0", version, False]}},
            "suspensions": [],
        }

    assert cache.snapshot_set(51, snap(10))
    assert cache.snapshot_set(53, snap(30))
    cache.client().delete(cache.market_key(53))  # expired; its floor stays
    written = cache.snapshot_set_many(
        [(50, snap(5)), (51, snap(9)), (52, snap(7)), (53, snap(29)), (54, snap(1))]
    )
    assert written == 3
    assert [cache.snapshot_version(m) for m in (50, 51, 52, 53, 54)] == [5, 10, 7, 30, 1]
    assert cache.snapshot_get(51)[0]["version"] == 10 and cache.snapshot_get(53)[0] is None
    assert cache.snapshot_get(52)[0]["prices"] == {"1": {"b": ["2.0", 7, False]}}
    assert 7_000 < cache.client().pttl(cache.market_key(54)) <= 15_000
    assert cache.client().pttl(cache._floor_key(54)) > 3_000_000
    assert cache.snapshot_set_many([(51, snap(11))]) == 1 and cache.snapshot_version(51) == 11
    assert cache.snapshot_set_many([]) == 0


def test_fair_probability_for_outcome_methods():
    _ingest()
    outcome = Outcome.objects.get(market__key="h2h", name="Los Angeles Chargers")
    q_home, q_away = 1 / 1.60, 1 / 2.45
    assert selectors.fair_probability_for_outcome(outcome_id=outcome.pk) == pytest.approx(
        q_away / (q_home + q_away)
    )
    additive = q_away - (q_home + q_away - 1) / 2
    assert selectors.fair_probability_for_outcome(outcome_id=outcome.pk, method="additive") == pytest.approx(
        additive
    )
    # consensus: the average of the three books' multiplicative lines
    lines = [(1.60, 2.45), (1.55, 2.60), (1.65, 2.35)]
    consensus = sum((1 / a) / (1 / h + 1 / a) for h, a in lines) / 3
    assert selectors.fair_probability_for_outcome(
        outcome_id=outcome.pk, reference="consensus"
    ) == pytest.approx(consensus)


def test_odds_snapshot_goes_to_the_audit_trail(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "audit": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    from django.core.files.storage import storages

    storages._storages = {}
    _ingest()
    count = services.odds_snapshot_append(now=FILE_TIME)
    assert count == 18
    records = audit_read("odds", FILE_TIME)
    assert len(records) == 18
    assert {r["book"] for r in records} == {"pinnacle", "draftkings", "fanduel"}
    storages._storages = {}
