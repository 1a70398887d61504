"""bet_place: the happy paths and every refusal, each leaving nothing changed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from betthat.core.errors import ApplicationError
from betthat.core.models import OutboxEvent
from betting.models import Bet, BetLeg
from betting.services import bet_cancel, user_limits_update, user_self_exclude
from edges.models import Event
from tests.betting.factories import make_game, same_game_quote, set_price
from tests.betting.helpers import leg, place, state
from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet.models import Transaction
from wallet.selectors import wallet_balances_for_user

pytestmark = pytest.mark.django_db


def deny_kyc(user, *, amount_minor=0):
    return False


def test_straight_bet_holds_the_stake_and_records_everything(funded_user, game):
    bet = place(funded_user, leg(game.o("away_ml")), stake=2500)
    bet.refresh_from_db()
    assert bet.status == "pending" and bet.result == ""
    assert bet.kind == "straight" and bet.market_type == "moneyline"
    assert bet.odds_decimal == Decimal("1.72") and bet.odds_american == -139
    assert bet.stake_minor == 2500 and bet.potential_return_minor == 4300
    assert bet.sportsbook_id == "draftkings" and bet.external_id.startswith("sbx-draftkings-")
    assert bet.event_id == game.event.pk and bet.sport_key == "americanfootball_nfl"
    assert bet.limits_in_force["max_bet_minor"] == 100000
    legs = list(bet.legs.all())
    assert len(legs) == 1
    assert legs[0].outcome_id == game.o("away_ml").pk and legs[0].price_decimal == Decimal("1.72")
    assert legs[0].attributes["outcome_name"] == "Chargers" and legs[0].leg_type == "straight"
    balances = wallet_balances_for_user(user=funded_user, currency="USD")
    assert (balances.available_minor, balances.held_minor) == (97500, 2500)
    hold = Transaction.objects.get(bet_id=bet.pk)
    assert hold.type == Transaction.Type.BET_PLACED and hold.amount_minor == 2500
    event = OutboxEvent.objects.get(event_type="bet.placed")
    assert event.payload["bet_id"] == bet.pk and event.payload["stake_minor"] == 2500


def test_prop_leg_is_typed_and_keeps_the_player(funded_user, game):
    bet = place(funded_user, leg(game.o("prop_over")))
    only = bet.legs.get()
    assert bet.market_type == "prop" and only.leg_type == "prop"
    assert only.attributes["player"] == "Patrick Mahomes" and only.point == Decimal("285.5")


def test_parlay_across_games_multiplies_prices(funded_user, game):
    other = make_game(home="Bills", away="Jets")
    bet = place(funded_user, leg(game.o("home_ml")), leg(other.o("over")), stake=1000)
    assert bet.kind == "parlay" and bet.market_type == "parlay" and bet.event_id is None
    assert bet.odds_decimal == Decimal("4.2900")  # 2.20 x 1.95
    assert bet.potential_return_minor == 4290
    assert sorted(bet.legs.values_list("leg_type", flat=True)) == ["parlay", "parlay"]


def test_same_game_parlay_takes_the_quoted_price(funded_user, game):
    same_game_quote(game, ["home_ml", "over"], price="3.60")
    bet = place(funded_user, leg(game.o("home_ml")), leg(game.o("over")), stake=1000)
    assert bet.kind == "same_game" and bet.odds_decimal == Decimal("3.6")
    assert bet.event_id == game.event.pk and bet.potential_return_minor == 3600


def test_price_better_than_asked_is_taken_with_policy_better(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml"), price="2.10"), policy="better")
    assert bet.odds_decimal == Decimal("2.20")


def test_any_price_is_taken_with_policy_any(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml"), price="3.00"), policy="any")
    assert bet.odds_decimal == Decimal("2.20")


def test_kelly_from_the_edge_is_recorded(funded_user, game):
    from tests.betting.factories import make_edge

    edge = make_edge(game, "home_ml", "draftkings")
    bet = place(funded_user, leg(game.o("home_ml")), edge_id=edge.edge_id)
    assert bet.edge_id == edge.edge_id
    assert bet.kelly_fraction == Decimal("0.100000")
    # 99,000 available x min(0.10 x 0.5 (medium), 0.25) = 5,000 (cash before the hold: 100,000)
    assert bet.recommended_stake_minor == 5000


# --- refusals ----------------------------------------------------------------------------


def refused(user, code, *legs, stake=1000, policy="none", **kwargs):
    before = state(user)
    with pytest.raises(ApplicationError) as error:
        place(user, *legs, stake=stake, policy=policy, **kwargs)
    assert error.value.code == code, error.value.message
    assert state(user) == before
    return error.value


def test_price_changed_carries_the_current_price(funded_user, game):
    set_price(game.o("home_ml"), "draftkings", "2.05")
    error = refused(funded_user, "price_changed", leg(game.o("home_ml"), price="2.20"))
    assert error.status == 409
    assert error.details["current_price"] == "2.050000"
    assert error.details["legs"][0] == {
        "outcome_id": game.o("home_ml").pk,
        "requested": "2.20",
        "current": "2.050000",
    }


def test_price_changed_with_policy_better_when_worse(funded_user, game):
    refused(funded_user, "price_changed", leg(game.o("home_ml"), price="2.30"), policy="better")


def test_policy_none_refuses_even_a_better_price(funded_user, game):
    refused(funded_user, "price_changed", leg(game.o("home_ml"), price="2.10"), policy="none")


def test_market_closed_when_event_started(funded_user, game):
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(minutes=1))
    refused(funded_user, "market_closed", leg(game.o("home_ml"), price="2.20"))


def test_market_closed_when_suspended(funded_user, game):
    game.markets["h2h"].is_suspended = True
    game.markets["h2h"].save()
    refused(funded_user, "market_closed", leg(game.o("home_ml"), price="2.20"))


def test_market_closed_when_the_book_suspends_its_quote(funded_user, game):
    set_price(game.o("home_ml"), "draftkings", "2.20", suspended=True)
    refused(funded_user, "market_closed", leg(game.o("home_ml"), price="2.20"))


def test_limit_exceeded_max_bet(funded_user, game):
    user_limits_update(user=funded_user, limits={"max_bet_size": 500})
    error = refused(funded_user, "limit_exceeded", leg(game.o("home_ml")), stake=501)
    assert error.details["limit"] == "max_bet_size" and error.details["allowed_minor"] == 500


def test_limit_exceeded_daily(funded_user, game):
    user_limits_update(user=funded_user, limits={"daily_bet_limit": 1500})
    place(funded_user, leg(game.o("home_ml")), stake=1000)
    error = refused(funded_user, "limit_exceeded", leg(game.o("over")), stake=501)
    assert error.details["limit"] == "daily_bet_limit" and error.details["allowed_minor"] == 500
    place(funded_user, leg(game.o("over")), stake=500)  # exactly up to the limit is fine


def test_limit_exceeded_monthly(funded_user, game):
    user_limits_update(user=funded_user, limits={"monthly_bet_limit": 800})
    error = refused(funded_user, "limit_exceeded", leg(game.o("home_ml")), stake=900)
    assert error.details["limit"] == "max_bet_size" or error.details["limit"] == "monthly_bet_limit"


def test_daily_limit_is_a_rolling_24_hours(funded_user, game):
    user_limits_update(user=funded_user, limits={"daily_bet_limit": 1000})
    placed = place(funded_user, leg(game.o("home_ml")), stake=1000)
    Bet.objects.filter(pk=placed.pk).update(placed_at=timezone.now() - timedelta(hours=23, minutes=59))
    refused(funded_user, "limit_exceeded", leg(game.o("over")), stake=1000)
    Bet.objects.filter(pk=placed.pk).update(placed_at=timezone.now() - timedelta(hours=24, seconds=1))
    place(funded_user, leg(game.o("over")), stake=1000)  # out of the window: no longer counts


def test_cancelled_bets_do_not_count_toward_limits(funded_user, game):
    user_limits_update(user=funded_user, limits={"daily_bet_limit": 1000})
    bet = place(funded_user, leg(game.o("home_ml")), stake=1000)
    bet_cancel(user=funded_user, bet_id=bet.pk)
    place(funded_user, leg(game.o("over")), stake=1000)


def test_insufficient_funds(user, game):
    fund_user(user, 999)
    refused(user, "insufficient_funds", leg(game.o("home_ml")), stake=1000)


def test_self_excluded(funded_user, game):
    user_self_exclude(user=funded_user, days=30)
    refused(funded_user, "self_excluded", leg(game.o("home_ml")))


def test_kyc_required(funded_user, game, settings):
    settings.KYC_CHECK = "tests.betting.test_placement.deny_kyc"
    refused(funded_user, "kyc_required", leg(game.o("home_ml")))


def test_geo_blocked(funded_user, game, settings):
    settings.GEO_DENY_LIST = ["XX", "192.0.2.0/28"]
    settings.GEO_IP_REGIONS = {"203.0.113.0/24": "XX", "198.51.100.0/24": "GB"}
    refused(funded_user, "geo_blocked", leg(game.o("home_ml")), client_ip="203.0.113.9")
    refused(funded_user, "geo_blocked", leg(game.o("home_ml")), client_ip="192.0.2.3")
    place(funded_user, leg(game.o("home_ml")), client_ip="198.51.100.7")


def test_suspended_account(funded_user, game):
    funded_user.status = funded_user.Status.SUSPENDED
    funded_user.save()
    refused(funded_user, "account_suspended", leg(game.o("home_ml")))


def test_invalid_amount(funded_user, game):
    refused(funded_user, "invalid_amount", leg(game.o("home_ml")), stake=0)


def test_invalid_parlay_same_market_twice(funded_user, game):
    refused(funded_user, "invalid_parlay", leg(game.o("home_ml")), leg(game.o("away_ml")))


def test_invalid_parlay_two_books(funded_user, game):
    other = make_game()
    refused(funded_user, "invalid_parlay", leg(game.o("home_ml")), leg(other.o("over"), book="fanduel"))


def test_invalid_parlay_too_many_legs(funded_user, game):
    games = [make_game(home=f"H{i}", away=f"A{i}") for i in range(13)]
    refused(funded_user, "invalid_parlay", *[leg(g.o("home_ml")) for g in games])


def test_invalid_parlay_without_legs(funded_user, game):
    refused(funded_user, "invalid_parlay")


def test_twelve_legs_is_the_most(funded_user, game):
    games = [make_game(home=f"H{i}", away=f"A{i}") for i in range(12)]
    for g in games:
        set_price(g.o("home_ml"), "draftkings", "1.10")
    bet = place(funded_user, *[leg(g.o("home_ml")) for g in games], stake=100)
    assert bet.legs.count() == 12 and bet.odds_decimal == Decimal("3.1384")  # 1.1 ** 12 = 3.13842...


def test_sgp_not_offered(funded_user, game):
    refused(funded_user, "sgp_not_offered", leg(game.o("home_ml")), leg(game.o("over")))


def test_sgp_quote_at_another_book_does_not_count(funded_user, game):
    same_game_quote(game, ["home_ml", "over"], book="fanduel")
    refused(funded_user, "sgp_not_offered", leg(game.o("home_ml")), leg(game.o("over")))


def test_venue_rejection_gives_the_stake_back_and_records_the_rejection(funded_user, game, settings):
    """The stake is held before the venue is asked (with no lock held) and released when it
    rejects: the rejected bet stays on record, nothing was staked and nothing published."""
    settings.BETTING_SANDBOX_REJECT_BOOKS = ["draftkings"]
    with pytest.raises(ApplicationError) as error:
        place(funded_user, leg(game.o("home_ml")), idempotency_key="first-try")
    assert error.value.code == "venue_rejected" and error.value.details["venue_rejected"] is True
    rejected = Bet.objects.get(user=funded_user)
    assert rejected.status == "rejected" and rejected.idempotency_key == ""  # the key is free again
    assert "not taking bets" in rejected.settlement_note
    balances = wallet_balances_for_user(user=funded_user, currency="USD")
    assert (balances.available_minor, balances.held_minor) == (100000, 0)
    kinds = set(Transaction.objects.filter(bet_id=rejected.pk).values_list("type", flat=True))
    assert kinds == {Transaction.Type.BET_PLACED, Transaction.Type.BET_REFUND}
    assert not OutboxEvent.objects.filter(event_type="bet.placed").exists()


def test_unknown_outcome_is_a_validation_error(funded_user, game):
    from betting.services import LegRequest

    refused(funded_user, "validation_error", LegRequest(10**9, "draftkings", Decimal("2.0")))


# --- cancel ------------------------------------------------------------------------------


def test_cancel_releases_the_stake(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")), stake=3000)
    cancelled = bet_cancel(user=funded_user, bet_id=bet.pk)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    balances = wallet_balances_for_user(user=funded_user, currency="USD")
    assert (balances.available_minor, balances.held_minor) == (100000, 0)
    assert Transaction.objects.get(bet_id=bet.pk, type=Transaction.Type.BET_REFUND).amount_minor == 3000
    assert OutboxEvent.objects.filter(event_type="bet.cancelled", payload__bet_id=bet.pk).exists()


def cancel_refused(user, bet, code):
    before = (state(user), Bet.objects.get(pk=bet.pk).status)
    with pytest.raises(ApplicationError) as error:
        bet_cancel(user=user, bet_id=bet.pk)
    assert error.value.code == code
    assert (state(user), Bet.objects.get(pk=bet.pk).status) == before


def test_cannot_cancel_after_the_start(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")))
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(seconds=1))
    cancel_refused(funded_user, bet, "not_cancellable")


def test_cannot_cancel_twice(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")))
    bet_cancel(user=funded_user, bet_id=bet.pk)
    cancel_refused(funded_user, bet, "not_cancellable")


def test_cannot_cancel_when_the_venue_refuses(funded_user, game, settings):
    bet = place(funded_user, leg(game.o("home_ml")))
    settings.BETTING_SANDBOX_CANCELLABLE = False
    cancel_refused(funded_user, bet, "not_cancellable")


def test_cannot_cancel_someone_elses_bet(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")))
    stranger = UserFactory()
    with pytest.raises(ApplicationError) as error:
        bet_cancel(user=stranger, bet_id=bet.pk)
    assert error.value.code == "not_found"
    assert Bet.objects.get(pk=bet.pk).status == "pending"


def test_legs_are_stored_once_per_market(funded_user, game):
    place(funded_user, leg(game.o("home_ml")))
    assert BetLeg.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_fills_exposure_and_relay_nudge_go_to_redis_in_one_round_trip(
    funded_user, game, settings, monkeypatch
):
    """After the fill commits (in autocommit, as over HTTP), the exposure's increments and the
    outbox relay's nudge claim share one pipeline (issue 19; they were two round trips); the
    relay task is queued once while its claim stands."""
    from redis.connection import AbstractConnection

    from betthat.core.outbox import nudge_taken
    from betthat.core.tasks import relay_outbox_task
    from betting import exposure

    settings.OUTBOX_NUDGE = True
    sent = []
    monkeypatch.setattr(relay_outbox_task, "apply_async", lambda **kwargs: sent.append(kwargs))
    trips = []
    original = AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        text = b"".join(command) if isinstance(command, list) else command
        if b"exposure" in text or b"nudge-queued" in text:  # the fill's, not the slip's reads
            trips.append(text)
        return original(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    nudge_taken()  # no nudge waiting (the funding's deposit may have left its claim)
    outcome = game.o("home_ml")
    liability = 0
    for stake in (1000, 3000):
        trips.clear()
        bet = place(funded_user, leg(outcome), stake=stake)
        assert bet.status == Bet.Status.PENDING
        liability += bet.potential_return_minor - bet.stake_minor
        assert len(trips) == 1, trips
    market = exposure.exposure_for_event(game.event.pk)[outcome.market_id]
    assert market == {"stake": 4000, "liability": liability, "count": 2}
    # the first fill claimed the nudge and queued the relay; the second found it queued
    assert sent == [{"queue": "default", "ignore_result": True}]
