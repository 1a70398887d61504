"""Grading through the database, settlement exactly once, staff settle/void, CLV."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from betthat.core.audit import audit_read
from betthat.core.errors import ApplicationError
from betthat.core.models import OutboxEvent
from betthat.core.outbox import relay_outbox
from betting.models import Bet
from betting.services import (
    bet_closing_lines_capture,
    bet_legs_grade_event,
    bet_settle,
    bet_void,
    closing_lines_capture_due,
    settle_due_bets,
)
from edges.models import Event
from edges.services import event_record_result
from tests.betting.factories import make_game, same_game_quote, set_price
from tests.betting.helpers import ledger_clean, leg, place
from wallet.models import Transaction
from wallet.selectors import wallet_balances_for_user

pytestmark = pytest.mark.django_db

MAHOMES = {"Patrick Mahomes": {"player_pass_yds": 291}}


def finish(game, home, away, players=None):
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(hours=3))
    return event_record_result(event_id=game.event.pk, home_score=home, away_score=away, player_stats=players)


def test_every_market_settles_with_the_right_payout(
    funded_user, game, django_capture_on_commit_callbacks, settings, tmp_path
):
    # This test's own audit store: xdist workers share the default folder.
    settings.STORAGES = {
        **settings.STORAGES,
        "audit": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    bets = {
        alias: place(funded_user, leg(game.o(alias)), stake=1000)
        for alias in (
            "home_ml",
            "away_ml",
            "home_spread",
            "away_spread",
            "over",
            "under",
            "prop_over",
            "prop_under",
        )
    }
    assert wallet_balances_for_user(user=funded_user).held_minor == 8000
    finish(game, 27, 20, MAHOMES)  # home by 7, total 47, Mahomes 291 yards
    with django_capture_on_commit_callbacks(execute=True):
        assert settle_due_bets() == 8
    expected = {
        "home_ml": ("win", 2200),  # draftkings 2.20
        "away_ml": ("loss", 0),
        "home_spread": ("win", 2000),  # -3.5 at 2.00
        "away_spread": ("loss", 0),
        "over": ("win", 1950),  # 44.5 at 1.95
        "under": ("loss", 0),
        "prop_over": ("win", 1950),  # 285.5 at 1.95
        "prop_under": ("loss", 0),
    }
    for alias, (result, payout) in expected.items():
        bet = Bet.objects.get(pk=bets[alias].pk)
        assert (bet.status, bet.result, bet.actual_return_minor) == ("settled", result, payout), alias
        assert bet.net_profit_minor == payout - 1000 and bet.settled_at is not None
        assert bet.legs.get().result == result
    balances = wallet_balances_for_user(user=funded_user)
    assert (balances.available_minor, balances.held_minor) == (100000 - 8000 + 8100, 0)
    assert OutboxEvent.objects.filter(event_type="bet.settled").count() == 8
    lines = [line for line in audit_read("settlement") if line["bet_id"] in {b.pk for b in bets.values()}]
    assert len(lines) == 8 and {line["result"] for line in lines} == {"win", "loss"}
    assert list(tmp_path.rglob("*.jsonl.gz"))
    assert settle_due_bets() == 0  # exactly once
    assert Transaction.objects.filter(bet_id__in=[b.pk for b in bets.values()]).count() == 16
    assert "ledger_check passed" in ledger_clean()


def test_cancelled_event_voids_and_refunds(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")), stake=1500)
    event_record_result(event_id=game.event.pk, home_score=None, away_score=None, status="cancelled")
    assert settle_due_bets() == 1
    bet.refresh_from_db()
    assert (bet.status, bet.result, bet.actual_return_minor, bet.net_profit_minor) == (
        "void",
        "void",
        1500,
        0,
    )
    assert Transaction.objects.get(bet_id=bet.pk, type=Transaction.Type.BET_REFUND).amount_minor == 1500
    assert wallet_balances_for_user(user=funded_user).available_minor == 100000


def test_player_who_did_not_play_voids_the_prop(funded_user, game):
    bet = place(funded_user, leg(game.o("prop_over")), stake=1000)
    finish(game, 27, 20, {"Patrick Mahomes": {"player_pass_yds": None}})
    settle_due_bets()
    bet.refresh_from_db()
    assert (bet.status, bet.result, bet.actual_return_minor) == ("void", "void", 1000)


def test_parlay_waits_for_every_leg_then_drops_a_push(funded_user, game):
    other = make_game(home="Bills", away="Jets")
    from edges.models import Market, Outcome

    whole = Market.objects.create(event=other.event, key="totals", point=Decimal("40"))
    over40 = Outcome.objects.create(market=whole, name="Over", point=Decimal("40"))
    Outcome.objects.create(market=whole, name="Under", point=Decimal("40"))
    set_price(over40, "draftkings", "1.90")
    bet = place(funded_user, leg(game.o("home_ml")), leg(over40), stake=1000)
    assert bet.odds_decimal == Decimal("4.1800")
    finish(game, 24, 21)
    assert settle_due_bets() == 0  # the second game is not over
    assert Bet.objects.get(pk=bet.pk).status == "pending"
    finish(other, 20, 20)  # total 40: the over pushes and drops out
    assert settle_due_bets() == 1
    bet.refresh_from_db()
    assert (bet.result, bet.actual_return_minor) == ("win", 2200)  # the price falls back to 2.20
    assert [leg.result for leg in bet.legs.order_by("position")] == ["win", "push"]


def test_same_game_parlay_loses_on_a_losing_leg(funded_user, game):
    same_game_quote(game, ["home_ml", "over"], price="3.60")
    bet = place(funded_user, leg(game.o("home_ml")), leg(game.o("over")), stake=1000)
    finish(game, 21, 17)  # home wins, total 38: under
    settle_due_bets()
    bet.refresh_from_db()
    assert (bet.status, bet.result, bet.actual_return_minor, bet.net_profit_minor) == (
        "settled",
        "loss",
        0,
        -1000,
    )


def test_grading_twice_changes_nothing(funded_user, game):
    place(funded_user, leg(game.o("home_ml")))
    finish(game, 27, 20)
    assert bet_legs_grade_event(event_id=game.event.pk) == 1
    assert bet_legs_grade_event(event_id=game.event.pk) == 0


def test_unfinished_event_is_not_graded(funded_user, game):
    place(funded_user, leg(game.o("home_ml")))
    assert bet_legs_grade_event(event_id=game.event.pk) == 0
    assert settle_due_bets() == 0


def test_event_finished_handler_grades_and_enqueues_settlement(
    funded_user, game, monkeypatch, django_capture_on_commit_callbacks
):
    from betting import tasks

    sent = []
    monkeypatch.setattr(tasks.settle_due_bets_task, "apply_async", lambda **kw: sent.append(kw))
    bet = place(funded_user, leg(game.o("home_ml")))
    finish(game, 27, 20)
    with django_capture_on_commit_callbacks(execute=True):
        relay_outbox()
    assert sent == [{"kwargs": {"event_id": game.event.pk}}]
    assert bet.legs.get().result == "win"


def test_staff_settle_and_void_with_a_reason(funded_user, game, staff_user):
    first = place(funded_user, leg(game.o("home_ml")), stake=1000)
    second = place(funded_user, leg(game.o("over")), stake=1000)
    with pytest.raises(ApplicationError) as error:
        bet_void(bet_id=first.pk, staff=staff_user, reason=" ")
    assert error.value.code == "validation_error"
    assert Bet.objects.get(pk=first.pk).status == "pending"
    voided = bet_void(bet_id=first.pk, staff=staff_user, reason="Palpable error")
    assert voided.status == "void" and "Palpable error" in voided.settlement_note
    settled = bet_settle(bet_id=second.pk, result="half_win", staff=staff_user, reason="Official correction")
    assert (settled.result, settled.actual_return_minor) == ("half_win", 1475)  # 1000 x (1.95 + 1) / 2
    with pytest.raises(ApplicationError) as error:
        bet_settle(bet_id=second.pk, result="win", staff=staff_user, reason="again")
    assert error.value.code == "conflict"
    assert Bet.objects.get(pk=second.pk).actual_return_minor == 1475
    assert "ledger_check passed" in ledger_clean()


# --- closing line value ------------------------------------------------------------------


def start(game):
    Event.objects.filter(pk=game.event.pk).update(
        status=Event.Status.LIVE, commence_time=timezone.now() - timedelta(minutes=1)
    )


def test_clv_at_the_venue_and_against_the_de_vigged_close(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")), stake=1000)  # 2.20 at draftkings
    set_price(game.o("home_ml"), "draftkings", "2.00")
    set_price(game.o("home_ml"), "pinnacle", "1.95")
    set_price(game.o("away_ml"), "pinnacle", "1.95")
    start(game)
    assert bet_closing_lines_capture(event_id=game.event.pk) == 1
    bet.refresh_from_db()
    assert bet.closing_odds_decimal == Decimal("2.0")
    assert bet.clv_percent == Decimal("0.100000")  # 2.20 / 2.00 - 1
    assert bet.closing_fair_probability == Decimal("0.500000")
    assert bet.ev_vs_close == Decimal("0.100000")  # 0.5 x 2.20 - 1
    assert bet.clv_note == "" and bet.has_closing_line
    assert bet_closing_lines_capture(event_id=game.event.pk) == 0  # captured once


def test_negative_clv(funded_user, game):
    bet = place(funded_user, leg(game.o("away_ml")), stake=1000)  # 1.72
    set_price(game.o("away_ml"), "draftkings", "1.80")
    start(game)
    bet_closing_lines_capture(event_id=game.event.pk)
    bet.refresh_from_db()
    assert bet.clv_percent == Decimal("-0.044444")  # 1.72 / 1.80 - 1
    # pinnacle 2.10 / 1.80 de-vigged: p(away) = (1/1.8) / (1/2.1 + 1/1.8) = 0.538462
    assert bet.closing_fair_probability == Decimal("0.538462")
    assert bet.ev_vs_close == Decimal("-0.073845")  # 0.538462 (stored, 6 places) x 1.72 - 1


def test_bet_without_a_close_says_so(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")), stake=1000)
    set_price(game.o("home_ml"), "draftkings", "2.20", suspended=True)
    start(game)
    assert closing_lines_capture_due() == 1
    bet.refresh_from_db()
    assert bet.clv_percent is None and bet.closing_odds_decimal is None and not bet.has_closing_line
    assert bet.clv_note == "No closing price at draftkings."


def test_same_game_parlay_has_no_closing_price(funded_user, game):
    same_game_quote(game, ["home_ml", "over"])
    bet = place(funded_user, leg(game.o("home_ml")), leg(game.o("over")))
    start(game)
    bet_closing_lines_capture(event_id=game.event.pk)
    bet.refresh_from_db()
    assert bet.clv_percent is None and bet.clv_note == "Same-game parlays have no closing price."


def test_parlay_clv_waits_for_the_last_leg(funded_user, game):
    other = make_game(home="Bills", away="Jets", starts_in=timedelta(days=3))
    bet = place(funded_user, leg(game.o("home_ml")), leg(other.o("over")), stake=1000)  # 2.20 x 1.95
    start(game)
    assert bet_closing_lines_capture(event_id=game.event.pk) == 0
    set_price(other.o("over"), "draftkings", "1.80")
    start(other)
    assert bet_closing_lines_capture(event_id=other.event.pk) == 1
    bet.refresh_from_db()
    assert bet.closing_odds_decimal == Decimal("3.96")  # 2.20 x 1.80
    assert bet.clv_percent == Decimal("0.083333")  # 4.29 / 3.96 - 1


def test_three_way_moneyline_team_pick_loses_on_a_draw(funded_user):
    from edges.models import Market, Outcome

    match = make_game(home="Arsenal", away="Chelsea", sport="soccer_epl")
    market = Market.objects.create(event=match.event, key="h2h_3_way")
    picks = {
        name: Outcome.objects.create(market=market, name=name) for name in ("Arsenal", "Chelsea", "Draw")
    }
    for name, price in (("Arsenal", "2.50"), ("Chelsea", "3.00"), ("Draw", "3.40")):
        set_price(picks[name], "draftkings", price)
    team = place(funded_user, leg(picks["Arsenal"]), stake=1000)
    two_way = place(funded_user, leg(match.o("home_ml")), stake=1000)
    finish(match, 1, 1)
    settle_due_bets()
    assert Bet.objects.get(pk=team.pk).result == "loss"
    assert Bet.objects.get(pk=two_way.pk).result == "push"  # a two-way moneyline returns the stake


def test_a_batch_books_one_wallet_transaction_and_one_event_per_bet(funded_user, game):
    other = game.o("away_ml")
    bets = [place(funded_user, leg(game.o("home_ml")), stake=1000) for _ in range(3)]
    bets += [place(funded_user, leg(other), stake=700) for _ in range(2)]
    finish(game, 27, 20)
    assert settle_due_bets() == 5
    payouts = Transaction.objects.filter(bet_id__in=[b.pk for b in bets], type="BET_PAYOUT")
    assert sorted(payouts.values_list("amount_minor", flat=True)) == [0, 0, 2200, 2200, 2200]
    assert OutboxEvent.objects.filter(event_type="bet.settled").count() == 5
    completed = OutboxEvent.objects.filter(
        event_type="wallet.transaction.completed", payload__type="BET_PAYOUT"
    )
    assert sorted(e.payload["bet_id"] for e in completed) == sorted(b.pk for b in bets)
    balances = wallet_balances_for_user(user=funded_user)
    assert (balances.available_minor, balances.held_minor) == (100000 - 4400 + 6600, 0)
    assert "ledger_check passed" in ledger_clean()


def test_a_batch_with_a_bet_the_wallet_refuses_settles_the_others(funded_user, game):
    from wallet.services import wallet_capture

    bets = [place(funded_user, leg(game.o("home_ml")), stake=1000) for _ in range(3)]
    # The stake of the middle bet was captured behind settlement's back: the batch refuses
    # it (unique (bet_id, type)), the others settle one by one, the middle bet stays pending.
    wallet_capture(user=funded_user, stake_minor=1000, payout_minor=0, currency="USD", bet_id=bets[1].pk)
    finish(game, 27, 20)
    assert settle_due_bets() == 2
    statuses = {b.pk: Bet.objects.get(pk=b.pk).status for b in bets}
    assert statuses == {bets[0].pk: "settled", bets[1].pk: "pending", bets[2].pk: "settled"}
    assert Transaction.objects.filter(bet_id=bets[1].pk, type="BET_PAYOUT").count() == 1
    assert Transaction.objects.filter(bet_id=bets[0].pk, type="BET_PAYOUT").get().amount_minor == 2200
