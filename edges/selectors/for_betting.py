"""Reads the betting app makes of edges' data (it never queries edges' tables itself)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from edges.models import Edge, Event, OddsQuote, Outcome, Sportsbook


def outcomes_for_placement(*, outcome_ids: list[int], sportsbook_key: str) -> dict[int, Outcome]:
    """The outcomes with their market, event and sport, in one statement, each annotated with
    its quote at `sportsbook_key`: `quote_last_update` (None without a quote) and
    `book_freshness_seconds` (a quote older than that is stale)."""
    from django.db.models import OuterRef, Subquery

    quotes = OddsQuote.objects.filter(outcome_id=OuterRef("pk"), sportsbook__key=sportsbook_key)
    rows = (
        Outcome.objects.filter(pk__in=set(outcome_ids))
        .select_related("market__event__sport")
        .only(
            "id",
            "name",
            "point",
            "market__id",
            "market__key",
            "market__point",
            "market__player",
            "market__period",
            "market__is_suspended",
            "market__event__id",
            "market__event__home_team",
            "market__event__away_team",
            "market__event__commence_time",
            "market__event__status",
            "market__event__sport__id",
            "market__event__sport__key",
        )
        .annotate(
            quote_last_update=Subquery(quotes.values("last_update")[:1]),
            book_freshness_seconds=Subquery(
                Sportsbook.objects.filter(key=sportsbook_key).values("freshness_seconds")[:1]
            ),
        )
    )
    return {outcome.pk: outcome for outcome in rows}


def outcome_for_slip(*, outcome_id: int) -> Outcome | None:
    """One outcome with its market, event and sport (the bet slip's header)."""
    return Outcome.objects.select_related("market__event__sport").filter(pk=outcome_id).first()


def sportsbook_exists(*, sportsbook_key: str) -> bool:
    return Sportsbook.objects.filter(key=sportsbook_key).exists()


def edge_sizing(*, edge_id: str) -> Mapping[str, Any] | None:
    """`{"kelly_fraction": float, "fair_odds_decimal": Decimal}` of an edge, or None."""
    return Edge.objects.filter(edge_id=edge_id).values("kelly_fraction", "fair_odds_decimal").first()


def edge_slip_target(*, edge_id: str) -> tuple[int, str] | None:
    """(outcome id, sportsbook key) an edge can be bet at from the slip, or None."""
    row = Edge.objects.filter(edge_id=edge_id).values("outcome_id", "sportsbook__key").first()
    if row is None or row["outcome_id"] is None or not row["sportsbook__key"]:
        return None
    return int(row["outcome_id"]), str(row["sportsbook__key"])


def quote_prices_closing(*, pairs: list[tuple[int, str]]) -> dict[tuple[int, str], Decimal]:
    """{(outcome id, book key): last price} for the given pairs, from the quote rows (the hot
    cache reports a started market as closed: right for placement, not for the closing
    line). Suspended quotes and pairs without a quote are absent. One query."""
    if not pairs:
        return {}
    wanted = set(pairs)
    rows = OddsQuote.objects.filter(
        outcome_id__in={outcome_id for outcome_id, _book in wanted},
        sportsbook__key__in={book for _outcome_id, book in wanted},
        is_suspended=False,
    ).values_list("outcome_id", "sportsbook__key", "price_decimal")
    return {
        (int(outcome_id), str(book)): price
        for outcome_id, book, price in rows
        if (outcome_id, book) in wanted
    }


def quote_prices_by_book(*, outcome_id: int) -> dict[str, Decimal]:
    """{book key: decimal price} of the outcome's unsuspended quotes."""
    rows = OddsQuote.objects.filter(outcome_id=outcome_id, is_suspended=False).values_list(
        "sportsbook__key", "price_decimal"
    )
    return {str(book): price for book, price in rows}


def moneyline_quotes_open(*, now: datetime, limit: int = 20) -> list[tuple[int, str, Decimal]]:
    """(outcome id, book key, price) of unsuspended moneyline quotes on scheduled events that
    have not started, soonest event first and best price first (the demo's first bets)."""
    rows = (
        OddsQuote.objects.filter(
            is_suspended=False,
            outcome__market__key="h2h",
            outcome__market__event__status=Event.Status.SCHEDULED,
            outcome__market__event__commence_time__gt=now,
        )
        .order_by("outcome__market__event__commence_time", "-price_decimal")
        .values_list("outcome_id", "sportsbook__key", "price_decimal")[:limit]
    )
    return [(int(outcome_id), str(book), price) for outcome_id, book, price in rows]
