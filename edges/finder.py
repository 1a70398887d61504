"""The edge finder: from the current quotes of one market family to its edges.

A family is (event, market key, player, period): every line of a spreads, totals or prop
market. Arbitrage and +EV are found per line; middles across lines of the family. The
input is plain rows (no ORM), so the finder is cheap to run per touched family.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from edges import pricing

MIDDLE_KEYS = ("spreads", "totals")


@dataclass(slots=True)
class QuoteRow:
    outcome_id: int
    market_id: int
    outcome_name: str
    outcome_point: Decimal | None
    book_id: int
    price_decimal: Decimal
    price_american: int
    last_update: datetime
    version: int


@dataclass(slots=True)
class BookInfo:
    id: int
    key: str
    title: str
    is_sharp: bool
    freshness_seconds: int


@dataclass(slots=True)
class MarketInfo:
    id: int
    event_id: int
    key: str
    player: str
    period: str
    point: Decimal | None


@dataclass(slots=True)
class EventInfo:
    id: int
    sport_key: str
    home_team: str
    away_team: str
    commence_time: datetime


@dataclass
class FoundEdge:
    edge_id: str
    kind: str
    market_id: int
    outcome_id: int | None
    sportsbook_id: int | None
    side: str
    line: Decimal | None
    best_odds_decimal: Decimal
    best_odds_american: int
    fair_probability: float | None
    edge_percentage: float
    expected_value_per_dollar: float
    kelly_fraction: float
    reference: str
    books_in_consensus: int
    reference_age_seconds: float | None
    confidence: float
    legs: list[dict[str, Any]]
    oldest_quote_at: datetime
    stale_after: datetime
    version: int
    middle_low: Decimal | None = None
    middle_high: Decimal | None = None
    fields: dict[str, Any] = field(default_factory=dict)


def stable_id(*parts: object) -> str:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=10).hexdigest()


def _label(name: str, point: Decimal | None, market_key: str) -> str:
    if point is None:
        return name
    if market_key == "spreads":
        return f"{name} {'+' if point > 0 else ''}{point.normalize():f}"
    return f"{name} {point.normalize():f}"


def _leg(row: QuoteRow, book: BookInfo, market_key: str, share: float | None = None) -> dict[str, Any]:
    return {
        "outcome_id": row.outcome_id,
        "market_id": row.market_id,
        "outcome": _label(row.outcome_name, row.outcome_point, market_key),
        "point": None if row.outcome_point is None else float(row.outcome_point),
        "sportsbook": book.key,
        "sportsbook_title": book.title,
        "price_decimal": str(row.price_decimal),
        "price_american": row.price_american,
        "stake_share": share,
    }


def _timing(rows: list[QuoteRow], books: dict[int, BookInfo]) -> tuple[datetime, datetime, int]:
    oldest = min(r.last_update for r in rows)
    stale_after = min(r.last_update + timedelta(seconds=books[r.book_id].freshness_seconds) for r in rows)
    return oldest, stale_after, max(r.version for r in rows)


def _confidence(reference: str, n_books: int, age: float | None, threshold: float) -> float:
    base = 0.9 if reference == "sharp" else min(0.9, 0.15 * n_books)
    freshness = 1.0 if age is None else max(0.0, 1.0 - age / max(threshold, 1.0))
    return round(base * (0.5 + 0.5 * freshness), 4)


@dataclass
class MarketView:
    """One line's quotes arranged for pricing: outcome names (sorted), each book's prices in
    that order, the row behind each (book, position), and the best row per outcome."""

    market: MarketInfo
    names: list[str]
    quotes: dict[str, list[float | None]]
    row_at: dict[tuple[str, int], QuoteRow]
    best: dict[str, QuoteRow]


def find_edges(
    *,
    event: EventInfo,
    markets: list[MarketInfo],
    rows: list[QuoteRow],
    books: dict[int, BookInfo],
    now: datetime,
    method: str = "multiplicative",
    reference: str = "sharp",
    min_ev: float = pricing.MIN_EV,
) -> list[FoundEdge]:
    """Every edge of one family (all `markets` share event, key, player and period)."""
    sharp_keys = [b.key for b in books.values() if b.is_sharp]
    by_market: dict[int, list[QuoteRow]] = {}
    for row in rows:
        by_market.setdefault(row.market_id, []).append(row)
    found: list[FoundEdge] = []
    best_by_market: dict[int, dict[str, QuoteRow]] = {}
    for market in markets:
        view = _market_view(market, by_market.get(market.id, []), books)
        if view is None:
            continue
        best_by_market[market.id] = view.best
        priced = pricing.price_market(
            view.quotes, sharp_books=sharp_keys, method=method, reference=reference, min_ev=min_ev
        )
        if priced.arbitrage is not None:
            found.append(_arbitrage_edge(view, priced, books, now, reference))
        found.extend(_value_edges(view, priced, books, now, sharp_keys))
    quote_counts = {m.id: len(by_market.get(m.id, [])) for m in markets}
    found.extend(_middles(event, markets, best_by_market, books, now, quote_counts))
    return found


def _market_view(market: MarketInfo, rows: list[QuoteRow], books: dict[int, BookInfo]) -> MarketView | None:
    names = sorted({row.outcome_name for row in rows})
    if len(names) < 2:
        return None
    position = {n: i for i, n in enumerate(names)}
    view = MarketView(market=market, names=names, quotes={}, row_at={}, best={})
    for row in rows:
        key = books[row.book_id].key
        view.quotes.setdefault(key, [None] * len(names))[position[row.outcome_name]] = float(
            row.price_decimal
        )
        view.row_at[(key, position[row.outcome_name])] = row
        current = view.best.get(row.outcome_name)
        # the best price; on a tie, the older quote (it has stood longer)
        if (
            current is None
            or row.price_decimal > current.price_decimal
            or (row.price_decimal == current.price_decimal and row.last_update < current.last_update)
        ):
            view.best[row.outcome_name] = row
    return view


def _arbitrage_edge(
    view: MarketView,
    priced: pricing.MarketPricing,
    books: dict[int, BookInfo],
    now: datetime,
    reference: str,
) -> FoundEdge:
    """Back every outcome at its best price: the legs, their stake shares per 100."""
    market = view.market
    legs_rows = [view.best[n] for n in view.names]
    split = pricing.arbitrage_stakes(10_000, [r.price_decimal for r in legs_rows])
    oldest, stale_after, version = _timing(legs_rows, books)
    first = legs_rows[0]
    payout_per_dollar = 1.0 / sum(1.0 / float(r.price_decimal) for r in legs_rows)
    age = (now - oldest).total_seconds()
    return FoundEdge(
        edge_id=stable_id("arb", market.id),
        kind="arbitrage",
        market_id=market.id,
        outcome_id=first.outcome_id,
        sportsbook_id=first.book_id,
        side=" / ".join(_label(r.outcome_name, r.outcome_point, market.key) for r in legs_rows),
        line=market.point,
        best_odds_decimal=first.price_decimal,
        best_odds_american=first.price_american,
        fair_probability=priced.fair.probabilities[0] if priced.fair else None,
        edge_percentage=priced.arbitrage or 0.0,
        expected_value_per_dollar=payout_per_dollar - 1.0,
        kelly_fraction=1.0,
        reference=priced.fair.reference if priced.fair else reference,
        books_in_consensus=len({r.book_id for r in legs_rows}),
        reference_age_seconds=age,
        confidence=_confidence("sharp", 1, age, 60.0),
        legs=[
            _leg(r, books[r.book_id], market.key, s / 10_000)
            for r, s in zip(legs_rows, split.stakes_minor, strict=True)
        ],
        oldest_quote_at=oldest,
        stale_after=stale_after,
        version=version,
    )


def _reference_rows(view: MarketView, priced: pricing.MarketPricing, sharp_keys: list[str]) -> list[QuoteRow]:
    """The quotes the fair line rests on: the sharp books', or every complete book's."""
    if priced.fair is None:
        return []
    used = (
        [k for k in view.quotes if k in sharp_keys] if priced.fair.reference == "sharp" else list(view.quotes)
    )
    return [
        view.row_at[(k, i)]
        for k in used
        if all(p is not None for p in view.quotes[k])
        for i in range(len(view.names))
    ]


def _value_edges(
    view: MarketView,
    priced: pricing.MarketPricing,
    books: dict[int, BookInfo],
    now: datetime,
    sharp_keys: list[str],
) -> list[FoundEdge]:
    """One +EV edge per (outcome, book) priced above the fair line by the minimum EV."""
    reference_rows = _reference_rows(view, priced, sharp_keys)
    if priced.fair is None or not reference_rows:
        return []
    market = view.market
    ref_age = (now - min(r.last_update for r in reference_rows)).total_seconds()
    ref_threshold = min(books[r.book_id].freshness_seconds for r in reference_rows)
    edges: list[FoundEdge] = []
    for index, book_key, _price, p in priced.value_bets:
        row = view.row_at[(book_key, index)]
        oldest, stale_after, version = _timing([row, *reference_rows], books)
        d = float(row.price_decimal)
        edges.append(
            FoundEdge(
                edge_id=stable_id("ev", row.outcome_id, row.book_id),
                kind="positive_ev",
                market_id=market.id,
                outcome_id=row.outcome_id,
                sportsbook_id=row.book_id,
                side=_label(row.outcome_name, row.outcome_point, market.key),
                line=row.outcome_point,
                best_odds_decimal=row.price_decimal,
                best_odds_american=row.price_american,
                fair_probability=p,
                edge_percentage=pricing.edge_percentage(p, d),
                expected_value_per_dollar=pricing.expected_value_per_dollar(p, d),
                kelly_fraction=pricing.kelly_fraction(p, d),
                reference=priced.fair.reference,
                books_in_consensus=priced.fair.books,
                reference_age_seconds=ref_age,
                confidence=_confidence(priced.fair.reference, priced.fair.books, ref_age, ref_threshold),
                legs=[_leg(row, books[row.book_id], market.key, 1.0)],
                oldest_quote_at=oldest,
                stale_after=stale_after,
                version=version,
            )
        )
    return edges


def _middles(
    event: EventInfo,
    markets: list[MarketInfo],
    best_by_market: dict[int, dict[str, QuoteRow]],
    books: dict[int, BookInfo],
    now: datetime,
    quote_counts: dict[int, int],
) -> list[FoundEdge]:
    if not markets:
        return []
    key = markets[0].key
    is_prop = key.startswith("player_")
    if key not in MIDDLE_KEYS and not is_prop:
        return []
    found = []
    lines = [m for m in markets if m.point is not None and m.id in best_by_market]
    if len(lines) < 2:
        return []
    # The consensus number, weighted by how many books hang each line: the expected home
    # margin (minus the home handicap) for spreads, the expected total otherwise.
    weighted = [(float(m.point), quote_counts.get(m.id, 1)) for m in lines if m.point is not None]
    consensus = sum(p * w for p, w in weighted) / sum(w for _p, w in weighted)
    centre_value = -consensus if key == "spreads" else consensus
    for first_market in lines:
        for second_market in lines:
            if first_market.id == second_market.id:
                continue
            if key == "spreads":
                # home at the first line, away at the second: window (-h1, -h2) when h1 > h2
                first = best_by_market[first_market.id].get(event.home_team)
                second = best_by_market[second_market.id].get(event.away_team)
            else:
                first = best_by_market[first_market.id].get("Over")
                second = best_by_market[second_market.id].get("Under")
            if first is None or second is None or first.outcome_point is None or second.outcome_point is None:
                continue
            if first.book_id == second.book_id:
                continue
            p1, p2 = float(first.outcome_point), float(second.outcome_point)
            window = pricing.middle_window(key, p1, p2)
            if window is None:
                continue
            centre = centre_value
            metrics = pricing.middle_metrics(
                key if key in MIDDLE_KEYS else "totals",
                (p1, float(first.price_decimal)),
                (p2, float(second.price_decimal)),
                centre=centre,
                sigma=pricing.middle_sigma(event.sport_key, key, centre_value),
            )
            if metrics is None or metrics.expected_value_per_dollar < pricing.MIN_EV:
                continue
            oldest, stale_after, version = _timing([first, second], books)
            share_first = (1.0 / float(first.price_decimal)) / (
                1.0 / float(first.price_decimal) + 1.0 / float(second.price_decimal)
            )
            labels = [_label(r.outcome_name, r.outcome_point, key) for r in (first, second)]
            found.append(
                FoundEdge(
                    edge_id=stable_id("mid", first_market.id, second_market.id),
                    kind="middle",
                    market_id=first_market.id,
                    outcome_id=first.outcome_id,
                    sportsbook_id=first.book_id,
                    side=f"{labels[0]} / {labels[1]}",
                    line=first.outcome_point,
                    best_odds_decimal=first.price_decimal,
                    best_odds_american=first.price_american,
                    fair_probability=metrics.hit_probability,
                    edge_percentage=metrics.edge_percentage,
                    expected_value_per_dollar=metrics.expected_value_per_dollar,
                    kelly_fraction=metrics.kelly_fraction,
                    reference="model",
                    books_in_consensus=2,
                    reference_age_seconds=(now - oldest).total_seconds(),
                    confidence=_confidence("consensus", 2, (now - oldest).total_seconds(), 60.0),
                    legs=[
                        _leg(first, books[first.book_id], key, share_first),
                        _leg(second, books[second.book_id], key, 1.0 - share_first),
                    ],
                    oldest_quote_at=oldest,
                    stale_after=stale_after,
                    version=version,
                    middle_low=Decimal(repr(window[0])).quantize(Decimal("0.01")),
                    middle_high=Decimal(repr(window[1])).quantize(Decimal("0.01")),
                )
            )
    return found
