"""The house's exposure per event and market, kept as Redis aggregates.

`exposure:event:{event_id}` is a hash with, per market, the open stake, the open liability
(what the house pays beyond the stake if every open bet on it wins) and the number of open
bets: fields `{market_id}:stake`, `{market_id}:liability`, `{market_id}:count`. The sorted
set `exposure:events` ranks events by liability. Placement adds, settlement, void and
cancel subtract, always after the database commit; a parlay counts in full on each of its
legs' markets (the worst case for each). `exposure_rebuild` recomputes everything from the
database, so Redis is a fast view and never the truth.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import cast

import redis
from django.db import transaction

from betthat.core import redis as bt_redis

logger = logging.getLogger(__name__)


def client() -> redis.Redis:
    return bt_redis.client(decode_responses=True)


def event_key(event_id: int) -> str:
    return bt_redis.key("exposure", "event", event_id)


def events_key() -> str:
    return bt_redis.key("exposure", "events")


# (event_id, market_id, stake_minor, liability_minor, count)
Delta = tuple[int, int, int, int, int]


def queue_deltas(pipe: redis.client.Pipeline, deltas: Iterable[Delta]) -> int:
    """Add the commands for `deltas` to `pipe` (a pipeline of `client()`); returns how many
    were added. For a caller that sends other commands in the same round trip (the fill)."""
    # Summed per (event, market) first: a settlement batch of 1,000 bets on one market is
    # three HINCRBYs and one ZINCRBY, not 3,000 commands (the sums are the same).
    per_market: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for event_id, market_id, stake, liability, bets in deltas:
        sums = per_market[(event_id, market_id)]
        sums[0] += stake
        sums[1] += liability
        sums[2] += bets
    per_event: dict[int, int] = defaultdict(int)
    for (event_id, market_id), (stake, liability, bets) in per_market.items():
        key = event_key(event_id)
        pipe.hincrby(key, f"{market_id}:stake", stake)
        pipe.hincrby(key, f"{market_id}:liability", liability)
        pipe.hincrby(key, f"{market_id}:count", bets)
        per_event[event_id] += liability
    for event_id, liability in per_event.items():
        pipe.zincrby(events_key(), liability, str(event_id))
    return 3 * len(per_market) + len(per_event)


def _apply(deltas: Iterable[Delta]) -> None:
    pipe = client().pipeline(transaction=False)
    if queue_deltas(pipe, deltas):
        try:
            pipe.execute()
        except Exception:  # a view, rebuilt from the database on demand
            # Not only RedisError: this runs after the placement committed, and redis-py can
            # raise others (an AttributeError from a connection being set up by two threads
            # was seen under load), which must not turn a committed bet into a 500.
            logger.exception("exposure update failed")


def exposure_add_on_commit(deltas: list[Delta]) -> None:
    if deltas:
        transaction.on_commit(lambda: _apply(deltas))


def deltas_for(
    bet_legs: Iterable[tuple[int, int]], stake_minor: int, liability_minor: int, sign: int
) -> list[Delta]:
    """Deltas for one bet whose legs are (event_id, market_id)."""
    return [(e, m, sign * stake_minor, sign * liability_minor, sign) for e, m in bet_legs]


def exposure_for_event(event_id: int) -> dict[int, dict[str, int]]:
    raw = cast(dict[str, str], client().hgetall(event_key(event_id)))  # a str-replies client
    markets: dict[int, dict[str, int]] = defaultdict(lambda: {"stake": 0, "liability": 0, "count": 0})
    for field, value in raw.items():
        market_id, name = field.split(":")
        markets[int(market_id)][name] = int(value)
    return {k: v for k, v in markets.items() if v["count"] or v["stake"]}


def exposure_top_events(limit: int = 50) -> list[tuple[int, int]]:
    ranked = cast(list[tuple[str, float]], client().zrevrange(events_key(), 0, limit - 1, withscores=True))
    return [(int(e), int(score)) for e, score in ranked]


def exposure_rebuild() -> int:
    """Recompute every aggregate from the open bets in the database; returns the events."""
    from betting.models import Bet, BetLeg

    r = client()
    for key in r.scan_iter(match=bt_redis.key("exposure", "*"), count=1000):
        r.delete(key)
    rows = (
        BetLeg.objects.filter(bet__status=Bet.Status.PENDING)
        .values_list("event_id", "market_id", "bet__stake_minor", "bet__potential_return_minor")
        .iterator(chunk_size=5000)
    )
    deltas = [(e, m, stake, potential - stake, 1) for e, m, stake, potential in rows]
    _apply(deltas)
    return len({d[0] for d in deltas})
