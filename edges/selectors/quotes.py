"""Edges' reads of quotes: the hot market snapshots (cache first, then the database), the
current price of a quote, and fair prices from a market's quotes."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from edges import cache, pricing
from edges.models import Event, Market, OddsQuote, Outcome, Sportsbook

logger = logging.getLogger(__name__)

_outcome_market: dict[int, int] = {}
_OUTCOME_MARKET_MAX = 200_000


def sharp_book_keys() -> list[str]:
    return list(Sportsbook.objects.filter(is_sharp=True).values_list("key", flat=True))


# --- the hot cache -----------------------------------------------------------------


def market_snapshot_build(*, market_id: int, now: datetime | None = None) -> dict[str, Any] | None:
    """The cache snapshot of one market, from the database."""
    market = Market.objects.select_related("event").filter(pk=market_id).first()
    if market is None:
        return None
    now = now or timezone.now()
    rows = OddsQuote.objects.filter(outcome__market_id=market_id).values_list(
        "outcome_id", "sportsbook__key", "price_decimal", "version", "is_suspended"
    )
    return snapshot_from_rows(market=market, rows=rows, now=now)


def snapshot_from_rows(*, market: Market, rows, now: datetime) -> dict[str, Any]:
    return snapshot_of(
        market_id=market.pk,
        market_suspended=market.is_suspended,
        event_status=market.event.status,
        commence_time=market.event.commence_time,
        rows=rows,
        now=now,
    )


def snapshot_of(
    *, market_id: int, market_suspended: bool, event_status: str, commence_time: datetime, rows, now: datetime
) -> dict[str, Any]:
    """A market's cache snapshot from its quote rows (outcome, book key, price, version,
    suspended) and the few fields of the market and event it shows (no model instances: an
    ingest batch builds hundreds)."""
    prices: dict[str, dict[str, list]] = defaultdict(dict)
    suspensions = set()
    version = 0
    for outcome_id, book, price, quote_version, is_suspended in rows:
        prices[str(outcome_id)][book] = [str(price), int(quote_version), bool(is_suspended)]
        version = max(version, int(quote_version))
        if is_suspended:
            suspensions.add(book)
    if event_status != Event.Status.SCHEDULED or commence_time <= now:
        status = "closed"
    elif market_suspended:
        status = "suspended"
    else:
        status = "open"
    return {
        "market_id": market_id,
        "version": version,
        "as_of": now.isoformat(),
        "status": status,
        "prices": prices,
        "suspensions": sorted(suspensions),
    }


def market_snapshot_current(*, market_id: int) -> dict[str, Any] | None:
    """The market's snapshot from Redis; rebuilt from the database on a miss or by the one
    reader elected in the stale-while-revalidate window."""
    try:
        snapshot, needs_refresh = cache.snapshot_get(market_id)
    except Exception:  # the cache is an accelerator, never a single point of failure
        logger.warning("odds cache unavailable", exc_info=True)
        return market_snapshot_build(market_id=market_id)
    if snapshot is not None and not needs_refresh:
        return snapshot
    fresh = market_snapshot_build(market_id=market_id)
    if fresh is not None:
        try:
            cache.snapshot_set(market_id, fresh)
        except Exception:
            logger.warning("odds cache write failed", exc_info=True)
        return fresh
    return snapshot


def _market_of(outcome_id: int) -> int | None:
    market_id = _outcome_market.get(outcome_id)
    if market_id is None:
        market_id = Outcome.objects.filter(pk=outcome_id).values_list("market_id", flat=True).first()
        if market_id is None:
            return None
        if len(_outcome_market) > _OUTCOME_MARKET_MAX:
            _outcome_market.clear()
        _outcome_market[outcome_id] = market_id
    return market_id


def quote_price_current(*, outcome_id: int, sportsbook_key: str) -> tuple[Decimal, int] | None:
    """(decimal price, version) of the book's current price for the outcome, from the hot
    cache, falling back to the database. None when there is no price to take: no quote,
    the quote or market is suspended, or the market has closed (the event started)."""
    market_id = _market_of(outcome_id)
    if market_id is None:
        return None
    snapshot = market_snapshot_current(market_id=market_id)
    if snapshot is None or snapshot["status"] != "open":
        return None
    entry = snapshot["prices"].get(str(outcome_id), {}).get(sportsbook_key)
    if entry is None or entry[2]:
        return None
    return Decimal(entry[0]), int(entry[1])


# --- fair prices -------------------------------------------------------------------


def market_quotes(*, market_id: int) -> tuple[list[Outcome], dict[str, list[float | None]]]:
    """The market's outcomes and, per book, its current decimal price of each (or None)."""
    outcomes = list(Outcome.objects.filter(market_id=market_id).order_by("id"))
    index = {o.pk: i for i, o in enumerate(outcomes)}
    quotes: dict[str, list[float | None]] = {}
    for outcome_id, book, price in OddsQuote.objects.filter(
        outcome__market_id=market_id, is_suspended=False
    ).values_list("outcome_id", "sportsbook__key", "price_decimal"):
        quotes.setdefault(book, [None] * len(outcomes))[index[outcome_id]] = float(price)
    return outcomes, quotes


def event_quote_rows(*, event_ids: list[int]) -> list[tuple[int, int, str, Decimal, int, bool]]:
    """Every current quote of the events: (outcome, market, book key, price, version,
    suspended), as an event subscription's snapshot carries them."""
    return list(
        OddsQuote.objects.filter(outcome__market__event_id__in=event_ids)
        .order_by("outcome_id", "sportsbook_id")
        .values_list(
            "outcome_id", "outcome__market_id", "sportsbook__key", "price_decimal", "version", "is_suspended"
        )
    )


def fair_probability_for_outcome(
    *, outcome_id: int, method: str = "multiplicative", reference: str = "sharp"
) -> float | None:
    """The outcome's fair probability with the margin removed by `method`, against the sharp
    books (falling back to the consensus of 3+ books) or the consensus. None if unpriced."""
    market_id = _market_of(outcome_id)
    if market_id is None:
        return None
    outcomes, quotes = market_quotes(market_id=market_id)
    if len(outcomes) < 2:
        return None
    line = pricing.fair_line(quotes, sharp_books=sharp_book_keys(), method=method, reference=reference)
    if line is None:
        return None
    position = next(i for i, o in enumerate(outcomes) if o.pk == outcome_id)
    return line.probabilities[position]
