"""The Odds API poller against recorded responses (no network): pacing, quota, backoff,
malformed answers, and results that settle bets the way `ingest_results` does."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
import requests

from betthat.core.models import OutboxEvent
from edges import tasks
from edges.feeds.poller import QUOTA_KEY, OddsApiPoller
from edges.models import Event, FeedState, OddsQuote
from tests.edges.factories import DATA, FILE_TIME, books

pytestmark = pytest.mark.django_db

NFL = "americanfootball_nfl"


class RecordedSession:
    """A test double of `requests.Session`: each path answers from its queue of recorded
    responses (tests/edges/data/recorded/<name>.json); `network_error` raises like a
    dropped connection. Every call is kept for the assertions."""

    def __init__(self, **queues: list[str]) -> None:
        self.queues = {path: list(names) for path, names in queues.items()}
        self.calls: list[tuple[str, dict]] = []

    def get(self, url, *, params, timeout):
        self.calls.append((url, dict(params)))
        path = url.split("/v4/", 1)[1]
        name = self.queues[path].pop(0)
        if name == "network_error":
            raise requests.ConnectionError("connection reset by peer")
        recorded = json.loads((DATA / "recorded" / f"{name}.json").read_text())
        response = requests.Response()
        response.status_code = recorded["status"]
        response.headers.update(recorded["headers"])
        raw = recorded.get("raw")
        response._content = (raw if raw is not None else json.dumps(recorded["body"])).encode()
        return response


@pytest.fixture
def feed_settings(settings):
    settings.ODDS_API_POLL_SECONDS = 60
    settings.ODDS_API_QUOTA_LOW = 100
    settings.ODDS_API_QUOTA_RESERVE = 10
    settings.ODDS_API_QUOTA_PROBE_SECONDS = 3600
    settings.ODDS_API_BACKOFF_SECONDS = 30
    settings.ODDS_API_BACKOFF_MAX_SECONDS = 100
    settings.ODDS_API_SCORES_POLL_SECONDS = 300
    return settings


def poller(session, sports=(NFL,)):
    return OddsApiPoller(session=session, api_key="k", base_url="https://odds.test", sports=list(sports))


def state(key):
    return FeedState.objects.get(key=key)


def test_odds_are_ingested_on_schedule_and_the_quota_is_read_and_logged(feed_settings, caplog):
    books()
    session = RecordedSession(**{f"sports/{NFL}/odds": ["nfl_odds_200", "nfl_odds_200"]})
    feed = poller(session)
    with caplog.at_level(logging.INFO, logger="edges.feeds.poller"):
        [first] = feed.poll_odds_due(now=FILE_TIME)
    assert first.polled and first.status == 200 and first.report.quotes_accepted == 18
    assert OddsQuote.objects.count() == 18
    url, params = session.calls[0]
    assert url == f"https://odds.test/v4/sports/{NFL}/odds"
    assert params == {
        "apiKey": "k",
        "regions": feed_settings.ODDS_API_REGIONS,
        "markets": feed_settings.ODDS_API_MARKETS,
        "oddsFormat": "decimal",
        "dateFormat": "iso",
    }
    quota = state(QUOTA_KEY)
    assert (quota.requests_remaining, quota.requests_used) == (498, 2)
    assert "498 requests remaining, 2 used" in caplog.text
    assert state(f"odds:{NFL}").next_poll_at == FILE_TIME + timedelta(seconds=60)
    # not due again before the interval: no request
    assert feed.poll_odds_due(now=FILE_TIME + timedelta(seconds=59))[0].skipped_reason == "not due"
    assert len(session.calls) == 1
    # a second worker's poller shares the schedule (it lives in the database)
    assert poller(session).poll_odds(NFL, now=FILE_TIME + timedelta(seconds=30)).skipped_reason == "not due"
    again = feed.poll_odds(NFL, now=FILE_TIME + timedelta(seconds=60))
    assert again.polled and again.report.quotes_ignored == 18 and len(session.calls) == 2
    assert state(f"odds:{NFL}").polls == 2


def test_errors_and_429s_back_off_exponentially_within_a_bound(feed_settings):
    books()
    session = RecordedSession(
        **{
            f"sports/{NFL}/odds": [
                "server_500",
                "network_error",
                "gateway_not_json_200",
                "rate_429_retry_after",
                "nfl_odds_200",
            ]
        }
    )
    feed = poller(session)
    now = FILE_TIME
    delays, reasons = [], []
    for _ in range(5):
        result = feed.poll_odds(NFL, now=now)
        assert result.polled
        reasons.append(result.error)
        delays.append((result.next_poll_at - now).total_seconds())
        now = result.next_poll_at
    # 30, 60, 120 -> capped at 100; 240 (Retry-After 90 is shorter) -> capped; then the interval
    assert delays == [30, 60, 100, 100, 60]
    assert reasons == ["HTTP 500", "network error: ConnectionError", "response is not JSON", "HTTP 429", ""]
    row = state(f"odds:{NFL}")
    assert row.consecutive_failures == 0 and row.last_status == 200 and row.polls == 5
    assert OddsQuote.objects.count() == 18


def test_retry_after_is_honoured_when_longer_than_the_backoff(feed_settings):
    feed_settings.ODDS_API_BACKOFF_MAX_SECONDS = 1800
    session = RecordedSession(**{f"sports/{NFL}/odds": ["rate_429_retry_after"]})
    result = poller(session).poll_odds(NFL, now=FILE_TIME)
    assert result.error == "HTTP 429" and result.next_poll_at == FILE_TIME + timedelta(seconds=90)
    assert state(QUOTA_KEY).requests_remaining == 450


def test_the_interval_stretches_as_the_quota_runs_low(feed_settings):
    feed_settings.ODDS_API_QUOTA_LOW = 500
    session = RecordedSession(**{f"sports/{NFL}/odds": ["odds_low_quota_200"]})
    result = poller(session).poll_odds(NFL, now=FILE_TIME)
    # 110 left, reserve 10: 100 spare of a 500 low-water mark stretches 60 s five times
    assert result.next_poll_at == FILE_TIME + timedelta(seconds=300)


def test_polling_stops_at_the_reserve_and_resumes_after_a_reset(feed_settings):
    books()
    session = RecordedSession(
        **{
            "sports": ["sports_reserve_200", "sports_reset_200"],
            f"sports/{NFL}/odds": ["quota_429", "nfl_odds_200"],
        }
    )
    feed = poller(session)
    exhausted = feed.poll_odds(NFL, now=FILE_TIME)
    assert exhausted.error == "HTTP 429" and state(QUOTA_KEY).requests_remaining == 0
    later = FILE_TIME + timedelta(minutes=5)
    assert feed.poll_odds(NFL, now=later).skipped_reason == "quota reserve reached"
    assert [url.rsplit("/v4/", 1)[1] for url, _ in session.calls] == [f"sports/{NFL}/odds", "sports"]
    assert state(QUOTA_KEY).requests_remaining == 5  # the free probe read the headers
    # within the probe interval: no request at all
    assert feed.poll_odds(NFL, now=later + timedelta(minutes=30)).skipped_reason == "quota reserve reached"
    assert len(session.calls) == 2
    # an hour later the probe finds the quota reset, and the odds are polled
    result = feed.poll_odds(NFL, now=later + timedelta(hours=1))
    assert result.polled and result.report.quotes_accepted == 18
    assert [url.rsplit("/v4/", 1)[1] for url, _ in session.calls] == [
        f"sports/{NFL}/odds",
        "sports",
        "sports",
        f"sports/{NFL}/odds",
    ]


def test_malformed_parts_are_counted_skipped_and_reported(feed_settings, caplog):
    books()
    session = RecordedSession(**{"sports/basketball_nba/odds": ["nba_malformed_200"]})
    with caplog.at_level(logging.WARNING, logger="edges.feeds.poller"):
        result = poller(session, sports=["basketball_nba"]).poll_odds("basketball_nba", now=FILE_TIME)
    assert result.polled and not result.error
    reasons = result.report.reasons()
    assert result.report.skipped == sum(reasons.values()) >= 6
    assert reasons["event is not an object"] == 1 and reasons["bookmaker without a key"] == 1
    # the good parts still went in: Pinnacle's Bulls h2h, Heat spread, Over and Under
    assert result.report.quotes_accepted == 4
    assert state("odds:basketball_nba").parts_skipped == result.report.skipped
    assert f"{result.report.skipped} malformed parts skipped" in caplog.text


def test_without_a_key_nothing_is_requested(feed_settings):
    session = RecordedSession()
    feed = OddsApiPoller(session=session, api_key="", sports=[NFL])
    assert feed.poll_odds(NFL, now=FILE_TIME).skipped_reason == "no ODDS_API_KEY set"
    assert feed.poll_scores(NFL, now=FILE_TIME).skipped_reason == "no ODDS_API_KEY set"
    assert session.calls == [] and not FeedState.objects.exists()


def test_a_failing_feed_never_raises_into_the_worker(feed_settings, monkeypatch):
    feed_settings.ODDS_API_KEY = "k"
    feed_settings.ODDS_API_SPORTS = [NFL]

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("edges.feeds.poller.ingest_v4", broken)
    monkeypatch.setattr(
        "edges.feeds.poller.requests.Session",
        lambda: RecordedSession(**{f"sports/{NFL}/odds": ["nfl_odds_200"]}),
    )
    assert tasks.poll_odds_api_task() == {
        "polled": 1,
        "failed": 1,
        "quotes_accepted": 0,
        "parts_skipped": 0,
        "results_recorded": 0,
    }
    assert state(f"odds:{NFL}").last_error == "odds not stored: database went away"


def test_scores_record_results_that_grade_and_settle_like_ingest_results(feed_settings, user):
    from betthat.core.outbox import relay_outbox
    from betting.models import Bet
    from betting.services import settle_due_bets
    from edges.feeds.odds_api import ingest_v4
    from tests.betting.helpers import leg, place
    from tests.edges.factories import load
    from tests.wallet.factories import fund_user

    feed_settings.OUTBOX_NUDGE = False
    books()
    ingest_v4(load("nfl_decimal.json"), now=FILE_TIME)
    fund_user(user, 100_000)
    event = Event.objects.get(provider_id="evt-kc-lac")
    chiefs = event.markets.get(key="h2h").outcomes.get(name="Kansas City Chiefs")
    bet = place(user, leg(chiefs, "fanduel"), stake=1000)

    session = RecordedSession(**{f"sports/{NFL}/scores": ["nfl_scores_200"]})
    feed = poller(session)
    # before kick-off there is nothing to ask for
    assert feed.poll_scores(NFL, now=FILE_TIME).skipped_reason == "no game awaiting a result"
    after = datetime(2030, 1, 2, 5, 0, tzinfo=UTC)
    result = feed.poll_scores(NFL, now=after)
    assert result.polled and result.results_recorded == 1
    assert session.calls[0][1] == {"apiKey": "k", "daysFrom": "1", "dateFormat": "iso"}
    # "twenty" and the stray string are counted and skipped; games in play are left alone
    assert result.report.skipped == 2
    event.refresh_from_db()
    assert (event.status, event.home_score, event.away_score) == ("final", 27, 24)
    assert OutboxEvent.objects.filter(event_type="event.finished", payload__event_id=event.pk).count() == 1
    # the betting app's outbox handler grades; its settlement task settles (as after ingest_results)
    relay_outbox()
    settle_due_bets()
    bet = Bet.objects.get(pk=bet.pk)
    assert (bet.status, bet.result, bet.actual_return_minor) == ("settled", "win", 1650)
    # polled again later: nothing recorded twice, no second event
    session.queues[f"sports/{NFL}/scores"] = ["nfl_scores_200"]
    assert (
        feed.poll_scores(NFL, now=after + timedelta(minutes=10)).skipped_reason == "no game awaiting a result"
    )
    assert OutboxEvent.objects.filter(event_type="event.finished").count() == 1


@pytest.mark.parametrize("odds_format", ["decimal", "american", "auto"])
def test_a_price_that_is_not_a_number_is_skipped_in_every_format(odds_format):
    from edges.feeds.odds_api import parse_v4
    from tests.edges.factories import load

    payload = load("nfl_decimal.json")
    payload[0]["bookmakers"][0]["markets"][0]["outcomes"][0]["price"] = "abc"
    parsed = parse_v4(payload, odds_format=odds_format)
    assert parsed.report.skipped >= 1
    assert any(p["reason"] == "not a price: 'abc'" for p in parsed.report.problems)


def test_make_run_starts_the_simulator_only_without_a_key(tmp_path, monkeypatch):
    import importlib.util

    from django.conf import settings

    spec = importlib.util.spec_from_file_location("run_script", settings.BASE_DIR / "scripts" / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    monkeypatch.setattr(run, "BASE_DIR", tmp_path)  # no .env there
    assert run.available("feed", {}) is True
    assert run.available("feed", {"ODDS_API_KEY": "k"}) is False
    (tmp_path / ".env").write_text("DEBUG=true\nODDS_API_KEY='abc'\n")
    assert run.real_feed_key({}) == "abc" and run.available("feed", {}) is False
    assert run.available("beat", {"ODDS_API_KEY": "k"}) is True


def test_the_beat_schedule_polls_the_odds_api():
    from django.conf import settings

    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"edges.tasks.poll_odds_api_task", "edges.tasks.poll_scores_task"} <= tasks_scheduled
