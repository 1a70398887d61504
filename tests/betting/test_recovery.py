"""Bets left `placing` (a fill lost in a database crash, a process killed mid-placement) are
resolved from the venue's answer by the recovery sweep: filled if the venue holds the
ticket, the stake released if not, once, through the ledger."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from betthat.core.models import OutboxEvent
from betting.models import Bet
from betting.services import placement
from betting.services.recovery import PlacingSweep, bet_placing_resolve, placing_bets_resolve
from betting.tasks import resolve_placing_bets_task
from betting.venues import SandboxVenue
from tests.betting.helpers import ledger_clean, leg, place
from wallet.models import Transaction
from wallet.selectors import wallet_balances_for_user

pytestmark = pytest.mark.django_db


class ProcessKilled(BaseException):
    """What a killed process leaves: nothing after the point where it stopped runs."""


def _later(settings):
    return timezone.now() + timedelta(seconds=settings.BETTING_PLACING_RECOVERY_SECONDS + 1)


def _balances(user):
    balances = wallet_balances_for_user(user=user, currency="USD")
    return balances.available_minor, balances.held_minor


def _lose_the_fill(bet):
    """The database as a crash leaves it when the fill's commit had not reached the disk: the
    reservation (synchronous) stands, the fill's update and its `bet.placed` row never were."""
    Bet.objects.filter(pk=bet.pk).update(status=Bet.Status.PLACING, external_id="")
    OutboxEvent.objects.filter(event_type="bet.placed", payload__bet_id=bet.pk).delete()


def test_a_lost_fill_is_booked_from_the_venues_ticket(funded_user, game, settings):
    bet = place(funded_user, leg(game.o("away_ml")), stake=2500)
    ticket, event_id = bet.external_id, OutboxEvent.objects.get(event_type="bet.placed").event_id
    _lose_the_fill(bet)
    assert _balances(funded_user) == (97500, 2500)

    assert placing_bets_resolve(now=_later(settings)) == PlacingSweep(filled=1)

    bet.refresh_from_db()
    assert (bet.status, bet.external_id) == (Bet.Status.PENDING, ticket)
    placed = OutboxEvent.objects.get(event_type="bet.placed")
    # the same event as the lost one: handlers, idempotent by event id, see it once
    assert placed.event_id == event_id and placed.payload["status"] == "pending"
    assert placed.payload["legs"][0]["outcome_id"] == game.o("away_ml").pk
    assert _balances(funded_user) == (97500, 2500)  # the stake stays held for the bet
    assert list(Transaction.objects.filter(bet_id=bet.pk).values_list("type", flat=True)) == [
        Transaction.Type.BET_PLACED
    ]
    assert "passed" in ledger_clean()


def test_a_placement_killed_before_the_venue_saw_it_has_its_stake_released(
    funded_user, game, settings, monkeypatch
):
    def killed(bet, slip):
        raise ProcessKilled

    monkeypatch.setattr(placement, "_execute", killed)
    with pytest.raises(ProcessKilled):
        place(funded_user, leg(game.o("home_ml")), stake=3000, idempotency_key="key-1")
    bet = Bet.objects.get(user=funded_user)
    assert bet.status == Bet.Status.PLACING and _balances(funded_user) == (97000, 3000)

    assert placing_bets_resolve(now=_later(settings)) == PlacingSweep(released=1)

    bet.refresh_from_db()
    assert bet.status == Bet.Status.REJECTED and bet.idempotency_key == ""
    assert "holds no ticket" in bet.settlement_note
    assert _balances(funded_user) == (100000, 0)
    assert sorted(Transaction.objects.filter(bet_id=bet.pk).values_list("type", flat=True)) == sorted(
        [Transaction.Type.BET_PLACED, Transaction.Type.BET_REFUND]
    )
    assert not OutboxEvent.objects.filter(event_type="bet.placed").exists()
    assert "passed" in ledger_clean()


def test_a_placement_killed_after_the_venue_filled_is_booked_filled(funded_user, game, settings, monkeypatch):
    def killed(bet, legs, execution):
        raise ProcessKilled

    monkeypatch.setattr(placement, "book_fill", killed)
    with pytest.raises(ProcessKilled):
        place(funded_user, leg(game.o("home_ml")), stake=3000)
    monkeypatch.undo()
    bet = Bet.objects.get(user=funded_user)
    assert bet.status == Bet.Status.PLACING and bet.external_id == ""

    # the task sweeps with the current time: the bet is too young yet
    assert resolve_placing_bets_task.apply().get() == 0
    bet.refresh_from_db()
    assert bet.status == Bet.Status.PLACING
    assert placing_bets_resolve(now=_later(settings)) == PlacingSweep(filled=1)
    bet.refresh_from_db()
    assert bet.status == Bet.Status.PENDING and bet.external_id.startswith("sbx-draftkings-")
    assert _balances(funded_user) == (97000, 3000)


def test_the_sweep_resolves_each_bet_once_however_often_it_runs(funded_user, game, settings):
    filled = place(funded_user, leg(game.o("away_ml")), stake=1000)
    _lose_the_fill(filled)
    released = place(funded_user, leg(game.o("home_ml")), stake=2000)
    _lose_the_fill(released)
    connection_forgets_ticket(released)
    assert _balances(funded_user) == (97000, 3000)

    later = _later(settings)
    assert placing_bets_resolve(now=later) == PlacingSweep(filled=1, released=1)
    after_first = (_balances(funded_user), Transaction.objects.count(), OutboxEvent.objects.count())
    assert placing_bets_resolve(now=later) == PlacingSweep()
    assert bet_placing_resolve(bet_id=filled.pk) == "unchanged"
    assert bet_placing_resolve(bet_id=released.pk) == "unchanged"
    assert (_balances(funded_user), Transaction.objects.count(), OutboxEvent.objects.count()) == after_first
    assert _balances(funded_user) == (99000, 1000)
    assert "passed" in ledger_clean()


def connection_forgets_ticket(bet):
    """A venue that never received the ticket (the process died before sending it)."""
    from betthat.core import redis as bt_redis
    from betting.venues import _sandbox_ticket_key

    assert bt_redis.client().delete(_sandbox_ticket_key(bet.sportsbook_id, bet.pk)) == 1


def test_a_young_placing_bet_is_left_to_its_placement(funded_user, game, settings):
    """A placement may still be waiting on the venue: the sweep does not touch it."""
    bet = place(funded_user, leg(game.o("away_ml")), stake=1000)
    _lose_the_fill(bet)
    assert placing_bets_resolve() == PlacingSweep()
    almost = timezone.now() + timedelta(seconds=settings.BETTING_PLACING_RECOVERY_SECONDS - 5)
    assert placing_bets_resolve(now=almost) == PlacingSweep()
    bet.refresh_from_db()
    assert bet.status == Bet.Status.PLACING and _balances(funded_user) == (99000, 1000)


def test_a_venue_that_cannot_tell_leaves_the_bet_for_the_next_run(funded_user, game, settings, monkeypatch):
    bet = place(funded_user, leg(game.o("away_ml")), stake=1000)
    _lose_the_fill(bet)

    def unreachable(self, *, sportsbook, bet_id):
        raise TimeoutError("venue timed out")

    monkeypatch.setattr(SandboxVenue, "lookup", unreachable)
    assert placing_bets_resolve(now=_later(settings)) == PlacingSweep(unresolved=1)
    bet.refresh_from_db()
    assert bet.status == Bet.Status.PLACING and _balances(funded_user) == (99000, 1000)
    monkeypatch.undo()
    assert placing_bets_resolve(now=_later(settings)) == PlacingSweep(filled=1)


def test_the_sweep_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["betting-resolve-placing"]
    assert entry["task"] == "betting.tasks.resolve_placing_bets_task"
    assert entry["schedule"] == timedelta(seconds=settings.BETTING_PLACING_SWEEP_SECONDS)


@pytest.mark.django_db(transaction=True)
def test_the_fill_alone_commits_without_waiting_for_the_disk(funded_user, game):
    """In autocommit (as over HTTP) the fill's statement turns synchronous commit off for its
    own transaction; the reservation before it, which moves the money, waits for the disk,
    and so does everything after it."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        bet = place(funded_user, leg(game.o("away_ml")), stake=1000)
    assert bet.status == Bet.Status.PENDING
    setting = [q["sql"] for q in captured.captured_queries if "synchronous_commit" in q["sql"]]
    assert len(setting) == 1 and "UPDATE betting_bet SET status = 'pending'" in setting[0]
    reserve = [q["sql"] for q in captured.captured_queries if "betting_bet_reserve" in q["sql"]]
    assert len(reserve) == 1 and "synchronous_commit" not in reserve[0]
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)


def test_the_fill_inside_a_callers_transaction_leaves_its_commit_alone(funded_user, game):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        bet = place(funded_user, leg(game.o("away_ml")), stake=1000)
    assert bet.status == Bet.Status.PENDING
    assert not [q for q in captured.captured_queries if "synchronous_commit" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
