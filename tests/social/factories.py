"""Bettors with public profiles, bets placed through the betting services and published
through the real outbox relay, and settled public-bet rows for the leaderboards."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from betthat.core.outbox import relay_outbox
from betting.models import Bet
from social import services
from social.models import Profile, PublicBet
from tests.betting.factories import make_game
from tests.betting.helpers import leg, place
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

# Profit per unit staked at the price these rows use (2.0), by result.
UNITS_AT_EVENS = {
    "win": Decimal(1),
    "loss": Decimal(-1),
    "push": Decimal(0),
    "void": Decimal(0),
    "half_win": Decimal("0.5"),
    "half_loss": Decimal("-0.5"),
}
HIDDEN_STAKE = 98_765  # 987.65: digits that appear nowhere else in a page or frame


def bettor(
    *,
    handle: str | None = None,
    public: bool = True,
    delay: int = 0,
    stake: str = "exact",
    fund: int = 10_000_000,
):
    user = UserFactory()
    if fund:
        fund_user(user, fund)
    services.profile_update(
        user=user, handle=handle, is_public=public, stake_visibility=stake, live_delay_sec=delay
    )
    return user


def profile(user) -> Profile:
    return Profile.objects.get(user_id=user.pk)


def place_and_relay(user, game=None, *, stake: int = 1000, alias: str = "home_ml") -> Bet:
    """Place a bet through `bet_place` and run the outbox relay once, as the worker would."""
    game = game or make_game()
    bet = place(user, leg(game.o(alias)), stake=stake)
    relay_outbox()
    return bet


def settled_public_bet(
    user,
    *,
    stake: int = 1000,
    profit: int = 0,
    result: str = "win",
    clv: str | None = None,
    settled_at=None,
    visible_from=None,
    game=None,
) -> PublicBet:
    """A settled bet and its public copy written directly (the leaderboards' input), for
    tables of dozens of bets without running dozens of placements."""
    game = game or make_game()
    outcome = game.o("home_ml")
    now = timezone.now()
    settled_at = settled_at or now - timedelta(hours=1)
    placed_at = settled_at - timedelta(hours=3)
    bet = Bet.objects.create(
        user=user,
        event=game.event,
        market_type="moneyline",
        sport_key=game.event.sport.key,
        stake_minor=stake,
        odds_decimal=Decimal("2.0"),
        odds_american=100,
        potential_return_minor=stake * 2,
        actual_return_minor=stake + profit,
        net_profit_minor=profit,
        status="settled",
        result=result,
        sportsbook_id="draftkings",
        placed_at=placed_at,
        settled_at=settled_at,
        clv_percent=None if clv is None else Decimal(clv),
    )
    bet.legs.create(
        event=game.event,
        market=outcome.market,
        outcome=outcome,
        price_decimal=Decimal("2.0"),
        attributes={"market_key": "h2h", "outcome_name": outcome.name},
    )
    return PublicBet.objects.create(
        bet=bet,
        user=user,
        visible_from=visible_from or placed_at,
        stake_mode="exact",
        placed_at=placed_at,
        released_at=placed_at,
        status="settled",
        result=result,
        stake_minor=stake,
        net_profit_minor=profit,
        profit_units=UNITS_AT_EVENS[result],
        clv_percent=None if clv is None else Decimal(clv),
        sport_key=game.event.sport.key,
        settled_at=settled_at,
    )
