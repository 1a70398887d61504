"""No hidden or rounded stake can be worked out from what others see (issue 18, item 1).

The property: run the same history twice, once with the real stakes and once with every
hidden bet's stake changed (and every rounded bet's stake changed inside its bucket), and
everything a stranger or a follower can read, on every surface, must be the same: each
public bet's fields, the profile's record and chart, the feed, the verifiable record and
the leaderboards, at several moments while the bettors switch their stake setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from betthat.core.outbox import relay_outbox
from betting.services import settle_due_bets
from edges.models import Market, Outcome
from edges.services import event_record_result
from social import selectors, services
from social.models import PublicBet
from social.presenters import public_bet_item
from social.visibility import stake_bucket, stricter
from tests.betting.factories import make_game, set_price
from tests.betting.helpers import leg, place
from tests.conftest import clear_cache_prefix
from tests.social.factories import bettor

HANDLES = ("priv_ann", "priv_ben", "priv_cat")
MODES = ("hidden", "rounded", "exact")
# Straights, parlays across the two games, a quarter line (half results), a prop that is
# void (no player stats are recorded), at three books.
ALIASES = (
    "home_ml",
    "away_ml",
    "home_spread",
    "away_spread",
    "over",
    "under",
    "q_home",
    "q_away",
    "prop_over",
)
BOOKS = ("draftkings", "fanduel", "pinnacle")
START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def add_quarter_line(game) -> None:
    """An alternate spread on -0.25 / +0.25: a level score is a half loss / half win."""
    market = Market.objects.create(event=game.event, key="alternate_spreads", point=Decimal("-0.25"))
    home = Outcome.objects.create(market=market, name=game.event.home_team, point=Decimal("-0.25"))
    away = Outcome.objects.create(market=market, name=game.event.away_team, point=Decimal("0.25"))
    for book, (home_price, away_price) in zip(
        BOOKS, (("1.83", "2.02"), ("1.87", "1.95"), ("1.79", "2.07")), strict=True
    ):
        set_price(home, book, home_price)
        set_price(away, book, away_price)
    game.outcomes["q_home"], game.outcomes["q_away"] = home, away


@dataclass(frozen=True)
class BetOp:
    profile: int
    book: str
    legs: tuple[tuple[int, str], ...]  # (game, alias) on distinct games
    stake: int  # minor units
    other: int  # drawn for the stake in the second run


@dataclass(frozen=True)
class SwitchOp:
    profile: int
    mode: str


bet_ops = st.builds(
    BetOp,
    profile=st.integers(0, 2),
    book=st.sampled_from(BOOKS),
    legs=st.lists(
        st.tuples(st.integers(0, 1), st.sampled_from(ALIASES)),
        min_size=1,
        max_size=2,
        unique_by=lambda x: x[0],
    ).map(tuple),
    stake=st.integers(100, 30_000),
    other=st.integers(100, 30_000),
)
switch_ops = st.builds(SwitchOp, profile=st.integers(0, 2), mode=st.sampled_from(MODES))


def second_stake(op: BetOp, mode: str) -> int:
    """The stake of the second run: any other amount when hidden, another amount in the same
    bucket when rounded, the same when shown exactly."""
    if mode == "exact":
        return op.stake
    if mode == "hidden":
        return op.other
    bucket = stake_bucket(op.stake)
    width = (bucket.upper - bucket.lower) * 100
    return bucket.lower * 100 + op.other % width


@dataclass
class World:
    bet_order: dict[int, int]  # bet id -> placement number
    event_order: dict[int, int]  # event id -> game number
    snapshots: list[Any]


def _normalise(value: Any, world: World, public_bets: dict[int, int]) -> Any:
    """Ids and hashes differ between the two runs (sequences are not rolled back, and a
    record line's hash covers its bet id): put placement numbers in their place."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ("hash", "previous_hash", "head", "next_cursor"):
                out[key] = item is not None
            elif key == "bet_id":
                out[key] = world.bet_order[item]
            elif key == "id" and "bet_id" in value:
                out[key] = world.bet_order[public_bets[item]]
            elif key == "event_id":
                out[key] = world.event_order[item]
            else:
                out[key] = _normalise(item, world, public_bets)
        return out
    if isinstance(value, list):
        return [_normalise(item, world, public_bets) for item in value]
    return value


def snapshot(world: World, watcher, now: datetime) -> dict[str, Any]:
    """Everything others can read: the API as a follower and as a stranger, the chart the
    page draws, each public bet as the websocket would send it, the leaderboards."""
    follower, stranger = APIClient(), APIClient()
    follower.force_authenticate(watcher)
    seen: dict[str, Any] = {}
    for handle in HANDLES:
        for name, client in (("follower", follower), ("stranger", stranger)):
            seen[f"{name} profile {handle}"] = client.get(f"/api/v1/profiles/{handle}/").json()
            seen[f"{name} bets {handle}"] = client.get(f"/api/v1/profiles/{handle}/bets/?limit=100").json()
            seen[f"{name} record {handle}"] = client.get(f"/api/v1/profiles/{handle}/record/").json()
        profile = selectors.profile_get_for_viewer(handle=handle, viewer=None)
        seen[f"chart {handle}"] = selectors.profile_units_chart(profile=profile, viewer=None)
    seen["feed"] = follower.get("/api/v1/feed/?limit=100").json()
    public_bets = list(PublicBet.objects.select_related("user__social_profile").order_by("bet_id"))
    bets = selectors.bets_for_public_view(bet_ids=[pb.bet_id for pb in public_bets])
    seen["frames"] = [
        public_bet_item(
            pb,
            bets[pb.bet_id],
            handle=pb.user.social_profile.handle,
            profile_mode=pb.user.social_profile.stake_visibility,
        )
        for pb in public_bets
    ]
    services.leaderboards_recompute(now=now)
    clear_cache_prefix()
    for window in ("7d", "30d"):
        for metric in ("roi", "win_pct", "clv"):
            seen[f"board {window} {metric}"] = stranger.get(
                f"/api/v1/leaderboards/?window={window}&metric={metric}"
            ).json()
    ids = dict(PublicBet.objects.values_list("id", "bet_id"))
    return _normalise(seen, world, ids)


def run_world(initial, ops, after, scores, *, second: bool) -> list[Any]:
    """Play the history in a transaction that is rolled back; return the snapshots."""
    clear_cache_prefix()  # the anonymous throttle's counters (the clock stands still)
    with transaction.atomic(), time_machine.travel(START, tick=False) as clock:
        users = [
            bettor(handle=handle, stake=mode, delay=0) for handle, mode in zip(HANDLES, initial, strict=True)
        ]
        watcher = bettor(handle="priv_watch", public=False)
        for handle in HANDLES:
            services.follow_create(follower=watcher, handle=handle)
        games = [make_game(), make_game(home="Bills", away="Jets")]
        for game in games:
            add_quarter_line(game)
        world = World({}, {game.event.pk: number for number, game in enumerate(games)}, [])
        modes = list(initial)
        for op in ops:
            clock.shift(timedelta(seconds=7))
            if isinstance(op, SwitchOp):
                services.profile_update(user=users[op.profile], stake_visibility=op.mode)
                modes[op.profile] = op.mode
                continue
            stake = second_stake(op, modes[op.profile]) if second else op.stake
            legs = [leg(games[game].o(alias), op.book) for game, alias in op.legs]
            bet = place(users[op.profile], *legs, stake=stake)
            world.bet_order[bet.pk] = len(world.bet_order)
            relay_outbox()
        clock.shift(timedelta(hours=4))
        for game, (home, away) in zip(games, scores, strict=True):
            event_record_result(event_id=game.event.pk, home_score=home, away_score=away)
        settle_due_bets()
        relay_outbox()
        world.snapshots.append(snapshot(world, watcher, START + timedelta(hours=5)))
        for op in after:  # switches once everything is settled: the history others saw
            clock.shift(timedelta(minutes=1))
            services.profile_update(user=users[op.profile], stake_visibility=op.mode)
            world.snapshots.append(snapshot(world, watcher, START + timedelta(hours=5)))
        transaction.set_rollback(True)
    return world.snapshots


@pytest.mark.django_db
@override_settings(SOCIAL_LEADERBOARD_MIN_BETS=1)
@hypothesis_settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    initial=st.tuples(*(st.sampled_from(MODES) for _ in HANDLES)),
    ops=st.lists(st.one_of(bet_ops, bet_ops, bet_ops, switch_ops), min_size=3, max_size=12),
    after=st.lists(switch_ops, max_size=2),
    scores=st.tuples(
        st.tuples(st.integers(0, 40), st.integers(0, 40)), st.tuples(st.integers(0, 40), st.integers(0, 40))
    ),
)
def test_no_public_number_moves_when_only_a_hidden_or_rounded_stake_does(initial, ops, after, scores):
    """Each snapshot is what the public could read at one moment; the second run differs
    from the first only in the stakes nobody may see."""
    first = run_world(initial, ops, after, scores, second=False)
    second = run_world(initial, ops, after, scores, second=True)
    assert len(first) == len(second) == 1 + len(after)
    for moment, (seen, seen_again) in enumerate(zip(first, second, strict=True)):
        for surface in seen:
            assert seen[surface] == seen_again[surface], f"{surface} differs at snapshot {moment}"


def test_second_stake_keeps_the_bucket_and_the_exact_stake():
    op = BetOp(profile=0, book="fanduel", legs=((0, "home_ml"),), stake=1234, other=29_999)
    assert second_stake(op, "exact") == 1234
    assert second_stake(op, "hidden") == 29_999
    assert stake_bucket(second_stake(op, "rounded")) == stake_bucket(1234)
    assert stricter("exact", "hidden") == "hidden"


@pytest.mark.django_db
def test_a_hidden_12_34_won_at_1_91_shows_0_91_units_whatever_the_stake():
    """The issue's example: 12.34 at 1.91 pays 23.56 (floored from 23.5694), a profit of
    11.22, and 11.22 / 12.34 = 0.9092, which only stakes 5.73 to 12.89 produce. Units come
    from the price: 1.91 - 1 = 0.9100, the same at 12.34, 5.00 and 987.65."""
    game = make_game()
    shown = {}
    for stake in (1234, 500, 98_765):
        user = bettor(handle=f"hid_{stake}", stake="hidden")
        bet = place(user, leg(game.o("home_spread"), "fanduel"), stake=stake)
        assert bet.odds_decimal == Decimal("1.91")
        relay_outbox()
        shown[stake] = user
    event_record_result(event_id=game.event.pk, home_score=30, away_score=20)  # home -3.5 wins
    settle_due_bets()
    relay_outbox()
    api = APIClient()
    for stake, user in shown.items():
        handle = f"hid_{stake}"
        item = api.get(f"/api/v1/profiles/{handle}/bets/").json()["results"][0]
        assert (item["result"], item["profit_units"], item["net_profit"]) == ("win", "0.9100", None)
        assert item["stake"] == {"visibility": "hidden", "display": "Hidden"}
        record = api.get(f"/api/v1/profiles/{handle}/").json()["record"]
        assert (record["roi"], record["by_sport"]["americanfootball_nfl"]["roi"]) == ("0.9100", "0.9100")
    # The money moved is still exact: the bettor was paid 23.56 on 12.34.
    assert PublicBet.objects.get(user=shown[1234]).net_profit_minor == 1122


@pytest.mark.django_db
def test_the_migration_fills_units_and_results_of_bets_settled_before_it():
    """Migration 0003 computes units for the public bets already settled, by the same rule."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("social.migrations.0003_publicbet_profit_units")
    game = make_game()
    user = bettor(handle="mig_units", stake="hidden")
    won = place(user, leg(game.o("home_spread"), "fanduel"), stake=1234)  # 1.91
    lost = place(user, leg(game.o("over"), "fanduel"), stake=777)
    relay_outbox()
    event_record_result(event_id=game.event.pk, home_score=30, away_score=10)  # total 40: under
    settle_due_bets()
    relay_outbox()
    PublicBet.objects.filter(user=user).update(profit_units=None, result="")  # as before 0003
    migration.fill_units(apps, None)
    filled = dict(PublicBet.objects.filter(user=user).values_list("bet_id", "profit_units"))
    assert filled == {won.pk: Decimal("0.91"), lost.pk: Decimal("-1")}
    assert set(PublicBet.objects.filter(user=user).values_list("result", flat=True)) == {"win", "loss"}
