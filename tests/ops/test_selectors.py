"""The monitoring views (migration ops.0001) against figures computed by hand, on the real
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from betthat.core.models import OutboxEvent
from betthat.ops import selectors
from betthat.ops.models import UserBetStats
from edges.models import Edge, OddsQuote, Sportsbook
from tests.betting.factories import make_edge, make_game
from tests.factories import UserFactory
from tests.ops.factories import bet, leg

pytestmark = pytest.mark.django_db


def midnight():
    return timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.fixture
def ledger_of_bets():
    """Seven bets around the period boundaries (amounts in cents):

    A pending, today, stake 1000 returning 2500          (exposure 1500)
    B won, placed 3 days ago, settled today: 2000 -> 4000 (house -2000)
    C lost, placed 10 days ago, settled 3 days ago: 500   (house +500)
    D cancelled today, 700                               (no handle)
    E void 10 days ago, 300 -> 300                        (house 0)
    F pending, placed 40 days ago, 400 returning 1000    (outside every period)
    G pending, today, EUR 900 returning 1800 (another bettor)
    """
    now = timezone.now()
    today = midnight() + timedelta(seconds=1)
    alice, bob = UserFactory(), UserFactory()
    rows = {
        "A": bet(alice, stake=1000, potential=2500, placed_at=today),
        "B": bet(
            alice,
            stake=2000,
            potential=4000,
            placed_at=now - timedelta(days=3),
            status="settled",
            result="win",
            returned=4000,
            settled_at=today + timedelta(seconds=1),
        ),
        "C": bet(
            alice,
            stake=500,
            potential=1000,
            placed_at=now - timedelta(days=10),
            status="settled",
            result="loss",
            returned=0,
            settled_at=now - timedelta(days=3),
        ),
        "D": bet(alice, stake=700, placed_at=today, status="cancelled"),
        "E": bet(
            alice,
            stake=300,
            potential=600,
            placed_at=now - timedelta(days=10),
            status="void",
            result="void",
            returned=300,
            settled_at=now - timedelta(days=10),
        ),
        "F": bet(alice, stake=400, potential=1000, placed_at=now - timedelta(days=40)),
        "G": bet(bob, stake=900, potential=1800, placed_at=today, currency="EUR"),
    }
    return alice, bob, rows


def test_dashboard_summary_per_period_and_currency(ledger_of_bets):
    book = selectors.book_overview()
    tables = {table["currency"]: {p["key"]: p for p in table["periods"]} for table in book["currencies"]}
    assert [table["currency"] for table in book["currencies"]] == ["USD", "EUR"]  # the default first

    def figures(period):
        return {
            k: period[k]
            for k in (
                "bets_placed",
                "handle_minor",
                "bets_settled",
                "house_profit_minor",
                "open_bets",
                "open_exposure_minor",
            )
        }

    usd = tables["USD"]
    assert figures(usd["today"]) == {
        "bets_placed": 1,
        "handle_minor": 1000,
        "bets_settled": 1,
        "house_profit_minor": -2000,
        "open_bets": 1,
        "open_exposure_minor": 1500,
    }
    assert figures(usd["7d"]) == {
        "bets_placed": 2,
        "handle_minor": 3000,
        "bets_settled": 2,
        "house_profit_minor": -1500,
        "open_bets": 1,
        "open_exposure_minor": 1500,
    }
    assert figures(usd["30d"]) == {
        "bets_placed": 4,
        "handle_minor": 3800,
        "bets_settled": 3,
        "house_profit_minor": -1500,
        "open_bets": 1,
        "open_exposure_minor": 1500,
    }
    assert figures(tables["EUR"]["30d"]) == {
        "bets_placed": 1,
        "handle_minor": 900,
        "bets_settled": 0,
        "house_profit_minor": 0,
        "open_bets": 1,
        "open_exposure_minor": 900,
    }


def test_daily_series_put_each_amount_on_its_day(ledger_of_bets):
    book = selectors.book_overview()
    usd = next(t for t in book["currencies"] if t["currency"] == "USD")
    assert len(usd["daily_handle"]) == 30
    today = timezone.now().date()
    handle = dict(usd["daily_handle"])
    profit = dict(usd["daily_profit"])
    assert handle[today] == 1000
    assert handle[today - timedelta(days=3)] == 2000
    assert sum(handle.values()) == 3800
    assert profit[today] == -2000
    assert sum(profit.values()) == -1500


def test_user_bet_stats(ledger_of_bets):
    alice, bob, _rows = ledger_of_bets
    stats = UserBetStats.objects.get(user=alice, currency="USD")
    assert (stats.bets, stats.pending, stats.settled, stats.won, stats.lost) == (5, 2, 3, 1, 1)
    assert (stats.staked_minor, stats.open_stake_minor, stats.open_liability_minor) == (4200, 1400, 2100)
    assert stats.net_profit_minor == 1500
    assert UserBetStats.objects.get(user=bob).open_liability_minor == 900
    top = selectors.top_bettors()
    assert [s.user_id for s in top["winners"]] == [alice.pk]
    assert [(s.user_id, s.open_liability_minor) for s in top["liabilities"]] == [
        (alice.pk, 2100),
        (bob.pk, 900),
    ]


def test_bets_by_status(ledger_of_bets):
    bar = selectors.bets_overview()["by_status"]
    assert {p.key: p.count for p in bar.parts} == {"pending": 3, "settled": 2, "void": 1, "cancelled": 1}
    assert bar.total == 7
    assert sum(p.width for p in bar.parts) == pytest.approx(100, abs=0.05)


def test_settlement_lag_from_the_events_end():
    game = make_game()
    finished = timezone.now() - timedelta(hours=1)
    game.event.status = "final"
    game.event.finished_at = finished
    game.event.save(update_fields=["status", "finished_at"])
    user = UserFactory()
    for seconds in (60, 180):
        row = bet(
            user,
            stake=100,
            placed_at=finished - timedelta(hours=3),
            status="settled",
            result="loss",
            returned=0,
            settled_at=finished + timedelta(seconds=seconds),
            event=game.event,
        )
        leg(row, game)
    still_pending = bet(user, stake=100, placed_at=finished - timedelta(hours=3), event=game.event)
    leg(still_pending, game, "away_ml")
    # a pending bet on an event still to play is not due
    other = make_game()
    leg(bet(user, stake=100, placed_at=timezone.now(), event=other.event), other)

    lag = selectors.bets_overview()
    assert lag["settled_24h"] == 2
    assert lag["lag_p50"] == pytest.approx(120.0)  # percentile_cont interpolates between 60 and 180
    assert lag["lag_p95"] == pytest.approx(174.0)
    assert lag["lag_max"] == pytest.approx(180.0)
    assert lag["due_pending"] == 1
    # now() in SQL is the start of this test's transaction, a moment before `finished` was taken
    assert lag["due_oldest_seconds"] == pytest.approx(3600, abs=60)
    assert lag["is_lagging"] is True  # an hour due, the warning is at 5 minutes


def test_users_by_status_and_signups_per_day():
    now = timezone.now()
    for status in ("active", "active", "suspended", "pending_verification"):
        UserFactory(status=status)
    deleted = UserFactory()
    deleted.deleted_at = now
    deleted.save(update_fields=["deleted_at"])
    old = UserFactory()
    old.date_joined = now - timedelta(days=2)
    old.save(update_fields=["date_joined"])
    ancient = UserFactory()
    ancient.date_joined = now - timedelta(days=45)
    ancient.save(update_fields=["date_joined"])

    users = selectors.users_overview()
    assert {p.key: p.count for p in users["by_status"].parts} == {
        "active": 4,
        "pending_verification": 1,
        "suspended": 1,
        "deleted": 1,
    }
    signups = dict(users["signups"])
    assert len(signups) == 30
    assert users["signups_today"] == signups[now.date()] == 5  # four, and the one deleted since
    assert signups[(now - timedelta(days=2)).date()] == 1
    assert users["signups_30d"] == 6  # the 45-day-old account is outside the window


def test_active_edges_by_kind_and_sport():
    game = make_game()
    make_edge(game, "home_ml", "draftkings")
    make_edge(game, "away_ml", "fanduel")
    nba = make_game(sport="basketball_nba", home="Celtics", away="Knicks")
    arb = make_edge(nba, "home_ml", "draftkings")
    Edge.objects.filter(pk=arb.pk).update(kind="arbitrage", expected_value_per_dollar=0.25)
    gone = make_edge(nba, "away_ml", "fanduel")
    Edge.objects.filter(pk=gone.pk).update(status="expired")

    edges = selectors.edges_overview()
    assert edges["total"] == 3
    assert {p.key: p.count for p in edges["by_kind"].parts} == {"arbitrage": 1, "positive_ev": 2, "middle": 0}
    assert edges["sports"] == [
        {"sport_key": "americanfootball_nfl", "counts": [0, 2, 0], "total": 2},
        {"sport_key": "basketball_nba", "counts": [1, 0, 0], "total": 1},
    ]
    assert edges["best_ev"] == pytest.approx(0.25)
    assert selectors.edge_counts() == {"positive_ev": 2, "arbitrage": 1}


def test_feed_age_per_book_and_a_stopped_feed_is_stale():
    game = make_game()  # pinnacle, draftkings and fanduel quote it now
    now = timezone.now()
    OddsQuote.objects.filter(sportsbook__key="pinnacle").update(received_at=now - timedelta(seconds=10))
    OddsQuote.objects.filter(sportsbook__key="fanduel").update(received_at=now - timedelta(seconds=300))
    Sportsbook.objects.filter(key="draftkings").update(freshness_seconds=600)
    OddsQuote.objects.filter(sportsbook__key="draftkings").update(received_at=now - timedelta(seconds=300))
    Sportsbook.objects.create(key="silent", title="Silent Book", freshness_seconds=90)
    Sportsbook.objects.create(key="retired", title="Retired Book", is_active=False)
    assert game.event.pk

    feeds = {b["key"]: b for b in selectors.feed_health(now=now)}
    assert set(feeds) == {"pinnacle", "draftkings", "fanduel", "silent"}  # inactive books are left out
    assert feeds["pinnacle"]["age_seconds"] == pytest.approx(10, abs=0.01)
    assert feeds["pinnacle"]["is_stale"] is False
    assert feeds["fanduel"]["is_stale"] is True  # 300 s > its 90 s
    assert feeds["draftkings"]["is_stale"] is False  # 300 s < its 600 s
    assert feeds["silent"]["is_stale"] is True and feeds["silent"]["last_quote_at"] is None
    assert feeds["pinnacle"]["quotes"] == 8  # 4 markets x 2 outcomes


def test_outbox_backlog_and_oldest_event():
    import uuid

    now = timezone.now()
    OutboxEvent.objects.create(
        event_id=uuid.uuid4(), event_type="bet.placed", created_at=now - timedelta(seconds=120)
    )
    OutboxEvent.objects.create(
        event_id=uuid.uuid4(), event_type="bet.placed", created_at=now - timedelta(seconds=30), attempts=2
    )
    OutboxEvent.objects.create(
        event_id=uuid.uuid4(),
        event_type="bet.settled",
        created_at=now - timedelta(seconds=500),
        delivered_at=now,
    )
    outbox = selectors.outbox_overview(now=now)
    assert (outbox["pending"], outbox["failing"]) == (2, 1)
    assert outbox["oldest_age_seconds"] == pytest.approx(120, abs=0.01)
    assert [(r.event_type, r.pending, r.max_attempts) for r in outbox["by_type"]] == [("bet.placed", 2, 2)]
    assert outbox["is_lagging"] is True  # 120 s > 30 s


def test_queue_depths_count_every_priority_list(settings):
    from betthat.ops.redis_client import ops_redis

    settings.CELERY_TASK_QUEUES_NAMES = ("ops-test-default", "ops-test-odds")
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    client = ops_redis(settings.CELERY_BROKER_URL)
    keys = [f"{prefix}ops-test-default", f"{prefix}ops-test-default\x06\x166", f"{prefix}ops-test-odds"]
    client.delete(*keys)
    try:
        client.lpush(keys[0], "a", "b")
        client.lpush(keys[1], "c")
        client.lpush(keys[2], "d", "e", "f")
        depths = {q["name"]: q["depth"] for q in selectors.queue_depths()}
        assert depths["ops-test-default"] == 3
        assert depths["ops-test-odds"] == 3
        assert "unacknowledged" in depths
    finally:
        client.delete(*keys)


def test_periodic_tasks_last_run_and_overdue():
    now = timezone.now()
    every5 = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="relay", task="x.relay", interval=every5, last_run_at=now - timedelta(seconds=3)
    )
    PeriodicTask.objects.create(
        name="stuck", task="x.stuck", interval=every5, last_run_at=now - timedelta(minutes=10)
    )
    PeriodicTask.objects.create(name="never", task="x.never", interval=every5, enabled=False)
    nightly = CrontabSchedule.objects.create(minute="0", hour="4")
    PeriodicTask.objects.create(
        name="nightly", task="x.nightly", crontab=nightly, last_run_at=now - timedelta(hours=20)
    )

    tasks = {t["name"]: t for t in selectors.periodic_tasks(now=now)}
    assert tasks["relay"]["is_overdue"] is False
    assert tasks["relay"]["age_seconds"] == pytest.approx(3, abs=0.01)
    assert tasks["stuck"]["is_overdue"] is True
    assert tasks["never"]["is_overdue"] is False and tasks["never"]["last_run_at"] is None
    assert tasks["nightly"]["is_overdue"] is False


def test_ledger_health_reports_a_broken_invariant():
    from tests.wallet.factories import fund_user

    user = UserFactory()
    fund_user(user, 5000)
    assert selectors.ledger_health(fresh=True)["ok"] is True
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wallet_account SET balance_minor = balance_minor + 1 WHERE user_id = %s AND kind = 'cash'",
            [user.pk],
        )
    health = selectors.ledger_health(fresh=True)
    assert health["ok"] is False
    failing = [c for c in health["checks"] if not c["ok"]]
    assert [c["name"] for c in failing] == ["cached balances equal the sum of entries"]


def test_a_panel_whose_source_is_down_reports_it_and_the_rest_still_render(settings):
    from tests.ops.factories import free_port

    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    snapshot = selectors.dashboard_snapshot()
    assert snapshot["queues"]["ok"] is False
    assert "ConnectionError" in snapshot["queues"]["error"]
    assert snapshot["users"]["ok"] and snapshot["book"]["ok"] and snapshot["ledger"]["ok"]
