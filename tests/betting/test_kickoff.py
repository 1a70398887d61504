"""Kick-off at scale (issue 14, item 4): the closing-line capture is set-based and chunked,
and neither it nor settlement ever runs twice at once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from betting.models import Bet, BetLeg
from betting.services import bet_closing_lines_capture, closing_lines_capture_due, settle_due_bets
from edges.models import Event
from edges.services import event_record_result
from tests.betting.helpers import leg, place

pytestmark = pytest.mark.django_db


def start(game):
    Event.objects.filter(pk=game.event.pk).update(
        status=Event.Status.LIVE, commence_time=timezone.now() - timedelta(minutes=1)
    )


def _capture_queries(funded_user, game, bets: int) -> int:
    for index in range(bets):
        place(funded_user, leg(game.o("home_ml" if index % 2 else "over")), stake=100)
    start(game)
    with CaptureQueriesContext(connection) as captured:
        assert bet_closing_lines_capture(event_id=game.event.pk) == bets
    return len(captured.captured_queries)


def test_the_capture_takes_the_same_statements_for_4_or_40_bets(funded_user, game):
    from tests.betting.factories import make_game

    few = _capture_queries(funded_user, game, 4)
    many = _capture_queries(funded_user, make_game(home="Bills", away="Jets"), 40)
    assert many == few  # set-based: no statement per bet or per leg
    assert Bet.objects.filter(clv_captured_at__isnull=True).count() == 0
    assert not BetLeg.objects.filter(closing_price_decimal__isnull=True).exists()
    home = Bet.objects.filter(legs__outcome__name="Bills").first()
    assert home.closing_odds_decimal == home.odds_decimal and home.clv_percent == 0


def test_the_capture_writes_in_chunks(funded_user, game, monkeypatch):
    from betting.services import closing

    monkeypatch.setattr(closing, "CHUNK", 3)
    for _ in range(7):
        place(funded_user, leg(game.o("home_ml")), stake=100)
    start(game)
    with CaptureQueriesContext(connection) as captured:
        assert bet_closing_lines_capture(event_id=game.event.pk) == 7
    statements = [q["sql"] for q in captured.captured_queries]
    assert sum(s.startswith("\nUPDATE betting_betleg") for s in statements) == 3  # 3 + 3 + 1 legs
    assert sum(s.startswith("\nUPDATE betting_bet b") for s in statements) == 3  # 3 + 3 + 1 bets


class HeldLock:
    """Holds one of the betting app's advisory locks from another connection."""

    def __init__(self, name: str):
        from betting.locks import lock_key

        self.key = lock_key(name)
        self.taken = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._hold)

    def _hold(self) -> None:
        from django.db import connections

        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", list(self.key))
                self.taken.set()
                self.release.wait(timeout=60)
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", list(self.key))
        finally:
            connections["default"].close()

    def __enter__(self):
        self.thread.start()
        assert self.taken.wait(timeout=30)
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join()


def test_a_second_capture_of_an_event_returns_at_once(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")))
    start(game)
    with HeldLock(f"clv-event:{game.event.pk}"):
        assert bet_closing_lines_capture(event_id=game.event.pk) == 0
        assert closing_lines_capture_due() == 0
        assert Bet.objects.get(pk=bet.pk).clv_captured_at is None
    assert closing_lines_capture_due() == 1


def test_a_second_sweep_returns_at_once(funded_user, game):
    place(funded_user, leg(game.o("home_ml")))
    start(game)
    with HeldLock("clv-sweep"):
        assert closing_lines_capture_due() == 0
    assert closing_lines_capture_due() == 1


def test_settlement_never_runs_twice_at_once(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")))
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(hours=3))
    event_record_result(event_id=game.event.pk, home_score=27, away_score=20)
    with HeldLock("settle-due"):
        assert settle_due_bets() == 0
        assert Bet.objects.get(pk=bet.pk).status == "pending"
    assert settle_due_bets() == 1
