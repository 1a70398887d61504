"""Identities and quotes: books, events, markets and outcomes resolved in bulk (ids cached
per process), then every quote upserted in one statement that accepts only a newer version
and appends the history in the same statement."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Q

from betthat.core.db import binding_cursor
from edges import finder
from edges.ingest.normalise import EventData, IngestReport, QuoteRowIn, QuoteUpdate
from edges.models import Event, Market, Outcome, Sport, Sportsbook

QUOTE_CHUNK = 20_000

MarketKey = tuple[int, str, str, str, Decimal | None]  # event, key, player, period, point
# an outcome of a lined market -> (event, key, player, period, market): its family and line
LineInfo = tuple[int, str, str, str, int]
# what the upsert statement returns per accepted quote
AcceptedRow = tuple[int, int, Decimal, int, bool]  # outcome, book, price, version, suspended

# Immutable identities, cached per process: (event, key, player, period, point) -> market
# id and (market id, name) -> outcome id. Rows are never renamed; a deleted row makes the
# batch fail its foreign key, which clears the caches and retries once.
_market_ids: dict[MarketKey, int] = {}
_outcome_ids: dict[tuple[int, str], int] = {}
_CACHE_MAX = 500_000


def clear_identity_caches() -> None:
    _market_ids.clear()
    _outcome_ids.clear()


def book_infos(updates: list[QuoteUpdate]) -> dict[str, finder.BookInfo]:
    """Every book by key; books the batch names for the first time are created."""
    books = {
        key: finder.BookInfo(id=pk, key=key, title=title, is_sharp=sharp, freshness_seconds=fresh)
        for pk, key, title, sharp, fresh in Sportsbook.objects.values_list(
            "id", "key", "title", "is_sharp", "freshness_seconds"
        )
    }
    missing = {u.book_key: u.book_title or u.book_key for u in updates if u.book_key not in books}
    if missing:
        Sportsbook.objects.bulk_create(
            [Sportsbook(key=k, title=t) for k, t in missing.items()], ignore_conflicts=True
        )
        return book_infos([])
    return books


def ensure_events(events: list[EventData]) -> int:
    """Create the unknown events (and sports); a known scheduled event may move its start.
    Returns how many were new."""
    if not events:
        return 0
    sports = {e.sport_key: e.sport_title for e in events}
    Sport.objects.bulk_create([Sport(key=k, title=t or k) for k, t in sports.items()], ignore_conflicts=True)
    sport_ids = dict(Sport.objects.filter(key__in=sports).values_list("key", "id"))
    known = set(
        Event.objects.filter(provider_id__in=[e.provider_id for e in events]).values_list(
            "provider_id", flat=True
        )
    )
    fresh = {e.provider_id: e for e in events if e.provider_id not in known}
    Event.objects.bulk_create(
        [
            Event(
                provider_id=e.provider_id,
                sport_id=sport_ids[e.sport_key],
                home_team=e.home_team,
                away_team=e.away_team,
                commence_time=e.commence_time,
            )
            for e in fresh.values()
        ],
        ignore_conflicts=True,
    )
    # A scheduled event's start time may move; the rest of a known event is fixed.
    for e in events:
        if e.provider_id in known:
            Event.objects.filter(provider_id=e.provider_id, status=Event.Status.SCHEDULED).exclude(
                commence_time=e.commence_time
            ).update(commence_time=e.commence_time)
    return len(fresh)


def open_event_ids(updates: list[QuoteUpdate], report: IngestReport) -> list[tuple[QuoteUpdate, int]]:
    """The updates whose event is known and not over, with the event's id; the others are
    reported and dropped."""
    rows = {
        provider_id: (pk, status)
        for pk, provider_id, status in Event.objects.filter(
            provider_id__in={u.event_provider_id for u in updates}
        ).values_list("id", "provider_id", "status")
    }
    usable: list[tuple[QuoteUpdate, int]] = []
    for update in updates:
        row = rows.get(update.event_provider_id)
        if row is None:
            report.problem(f"event {update.event_provider_id}", "unknown event")
        elif row[1] in (Event.Status.FINAL, Event.Status.CANCELLED):
            report.problem(f"event {update.event_provider_id}", "event is over")
        else:
            usable.append((update, row[0]))
    return usable


def _resolve_markets(keys: set[MarketKey]) -> None:
    missing = [k for k in keys if k not in _market_ids]
    if not missing:
        return
    Market.objects.bulk_create(
        [Market(event_id=k[0], key=k[1], player=k[2], period=k[3], point=k[4]) for k in missing],
        ignore_conflicts=True,
    )
    query = Q()
    for event_id, key, player, period, point in missing:
        query |= Q(event_id=event_id, key=key, player=player, period=period, point=point)
    if len(_market_ids) > _CACHE_MAX:
        clear_identity_caches()
    for pk, event_id, key, player, period, point in Market.objects.filter(query).values_list(
        "id", "event_id", "key", "player", "period", "point"
    ):
        _market_ids[(event_id, key, player, period, point)] = pk


def _resolve_outcomes(wanted: dict[tuple[int, str], Decimal | None]) -> None:
    missing = [k for k in wanted if k not in _outcome_ids]
    if not missing:
        return
    Outcome.objects.bulk_create(
        [Outcome(market_id=m, name=n, point=wanted[(m, n)]) for m, n in missing], ignore_conflicts=True
    )
    query = Q()
    for market_id, name in missing:
        query |= Q(market_id=market_id, name=name)
    for pk, market_id, name in Outcome.objects.filter(query).values_list("id", "market_id", "name"):
        _outcome_ids[(market_id, name)] = pk


def _market_key(update: QuoteUpdate, event_id: int) -> MarketKey:
    return (event_id, update.market_key, update.player, update.period, update.line)


def resolve_identities(
    usable: list[tuple[QuoteUpdate, int]], books: dict[str, finder.BookInfo]
) -> tuple[list[tuple[QuoteUpdate, int, int]], dict[int, LineInfo], dict[int, int]]:
    """Markets and outcomes created where missing; each update with its outcome and book
    ids, the family and line of every outcome of a lined market, and the market of every
    outcome."""
    _resolve_markets({_market_key(u, event_id) for u, event_id in usable})
    _resolve_outcomes(
        {(_market_ids[_market_key(u, event_id)], u.outcome_name): u.outcome_point for u, event_id in usable}
    )
    identified: list[tuple[QuoteUpdate, int, int]] = []
    lines: dict[int, LineInfo] = {}
    market_of: dict[int, int] = {}
    for update, event_id in usable:
        market_id = _market_ids[_market_key(update, event_id)]
        outcome_id = _outcome_ids[(market_id, update.outcome_name)]
        market_of[outcome_id] = market_id
        if update.line is not None:
            lines[outcome_id] = (event_id, update.market_key, update.player, update.period, market_id)
        identified.append((update, outcome_id, books[update.book_key].id))
    return identified, lines, market_of


# Arrays through unnest(): nine parameters whatever the batch size, so the driver does not
# bind (and the server does not parse) tens of thousands of placeholders per statement; in
# binary (`%b`), which the driver dumps without escaping each value as text.
_UPSERT = """
WITH incoming AS (
  SELECT * FROM unnest(%b::bigint[], %b::bigint[], %b::numeric[], %b::int[], %b::numeric[],
                       %b::timestamptz[], %b::timestamptz[], %b::bigint[], %b::bool[])
    AS t (outcome_id, sportsbook_id, price_decimal, price_american, point, last_update,
          received_at, version, is_suspended)
),
up AS (
  INSERT INTO edges_oddsquote AS q (outcome_id, sportsbook_id, price_decimal, price_american, point,
                                    last_update, received_at, version, is_suspended)
  SELECT * FROM incoming
  ON CONFLICT (outcome_id, sportsbook_id) DO UPDATE SET
    price_decimal = EXCLUDED.price_decimal, price_american = EXCLUDED.price_american,
    point = EXCLUDED.point, last_update = EXCLUDED.last_update, received_at = EXCLUDED.received_at,
    version = EXCLUDED.version, is_suspended = EXCLUDED.is_suspended
  WHERE q.version < EXCLUDED.version
  RETURNING q.outcome_id, q.sportsbook_id, q.price_decimal, q.point, q.last_update, q.version, q.is_suspended
),
hist AS (
  INSERT INTO edges_oddshistory (outcome_id, sportsbook_id, price_decimal, point, recorded_at, version)
  SELECT outcome_id, sportsbook_id, price_decimal, point, last_update, version FROM up
)
SELECT outcome_id, sportsbook_id, price_decimal, version, is_suspended FROM up
"""


def upsert_quotes(rows: list[QuoteRowIn]) -> list[AcceptedRow]:
    """Write the rows that are newer than what is stored; returns the accepted ones."""
    accepted: list[AcceptedRow] = []
    # Arrays bound server-side: quoting twenty thousand values into the SQL text on the client
    # cost more than the statement.
    with binding_cursor() as cursor:
        for start in range(0, len(rows), QUOTE_CHUNK):
            chunk = rows[start : start + QUOTE_CHUNK]
            cursor.execute(_UPSERT, [list(column) for column in zip(*chunk, strict=True)])
            accepted.extend(cursor.fetchall())
    return accepted


_SUSPEND = """
UPDATE edges_oddsquote AS q SET is_suspended = true
FROM edges_outcome o, edges_market m,
     unnest(%b::bigint[], %b::bigint[], %b::text[], %b::text[], %b::text[], %b::bigint[])
       AS cur (book_id, event_id, key, player, period, market_id)
WHERE q.outcome_id = o.id AND o.market_id = m.id AND q.sportsbook_id = cur.book_id
  AND m.event_id = cur.event_id AND m.key = cur.key AND m.player = cur.player AND m.period = cur.period
  AND m.id <> cur.market_id AND NOT q.is_suspended
"""


def suspend_moved_lines(accepted: list[AcceptedRow], lines: dict[int, LineInfo]) -> None:
    """A book hangs one line per market family: when it posts a new number, its quotes on
    the family's other lines are withdrawn (suspended), as the feed no longer lists them."""
    by_family: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    for outcome_id, book_id, _price, _version, _suspended in accepted:
        info = lines.get(outcome_id)
        if info is not None:
            by_family[(book_id, *info[:4])].add(info[4])
    # a book listing several lines of one family in the batch (alternate lines) keeps them all
    rows = [(*family, next(iter(markets))) for family, markets in by_family.items() if len(markets) == 1]
    if not rows:
        return
    with binding_cursor() as cursor:
        cursor.execute(_SUSPEND, [list(column) for column in zip(*rows, strict=True)])
