"""The one quote path every feed uses (file, HTTP poller, simulator).

normalised updates -> events/markets/outcomes resolved (bulk, cached ids) -> quotes upserted
in one statement that only accepts a newer version and appends the history in the same
statement -> the touched families recomputed once per batch -> edges upserted / expired ->
hot cache snapshots and websocket deltas after commit.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from edges import cache, finder, realtime
from edges.models import FULL_GAME, Edge, Event, Market, Outcome, Sport, Sportsbook

logger = logging.getLogger(__name__)

QUOTE_CHUNK = 20_000


@dataclass(frozen=True, slots=True)
class EventData:
    provider_id: str
    sport_key: str
    sport_title: str
    home_team: str
    away_team: str
    commence_time: datetime


@dataclass(frozen=True, slots=True)
class QuoteUpdate:
    event_provider_id: str
    book_key: str
    market_key: str
    outcome_name: str
    price_decimal: Decimal
    price_american: int
    last_update: datetime
    line: Decimal | None = None
    outcome_point: Decimal | None = None
    player: str = ""
    period: str = FULL_GAME
    is_suspended: bool = False
    book_title: str = ""


@dataclass
class IngestReport:
    events: int = 0
    quotes_received: int = 0
    quotes_accepted: int = 0
    quotes_ignored: int = 0
    markets_touched: int = 0
    edges_upserted: int = 0
    edges_removed: int = 0
    skipped: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def problem(self, where: str, reason: str) -> None:
        self.skipped += 1
        self.problems.append({"where": where, "reason": reason})

    def merge(self, other: IngestReport) -> None:
        for name in (
            "events",
            "quotes_received",
            "quotes_accepted",
            "quotes_ignored",
            "markets_touched",
            "edges_upserted",
            "edges_removed",
            "skipped",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems.extend(other.problems)
        self.seconds += other.seconds

    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for problem in self.problems:
            counts[problem["reason"]] += 1
        return dict(counts)


# Immutable identities, cached per process: (event, key, player, period, point) -> market
# id and (market id, name) -> outcome id. Rows are never renamed; a deleted row makes the
# batch fail its foreign key, which clears the caches and retries once.
_market_ids: dict[tuple, int] = {}
_outcome_ids: dict[tuple[int, str], int] = {}
_CACHE_MAX = 500_000


def clear_identity_caches() -> None:
    _market_ids.clear()
    _outcome_ids.clear()


def _book_infos(updates: list[QuoteUpdate]) -> dict[str, finder.BookInfo]:
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
        return _book_infos([])
    return books


def _ensure_events(events: list[EventData]) -> int:
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


def _resolve_markets(keys: set[tuple]) -> None:
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


# Arrays through unnest(): nine parameters whatever the batch size, so the driver does not
# bind (and the server does not parse) tens of thousands of placeholders per statement.
_UPSERT = """
WITH incoming AS (
  SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[], %s::int[], %s::numeric[],
                       %s::timestamptz[], %s::timestamptz[], %s::bigint[], %s::bool[])
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


def _upsert_quotes(rows: list[tuple]) -> list[tuple]:
    accepted: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), QUOTE_CHUNK):
            chunk = rows[start : start + QUOTE_CHUNK]
            cursor.execute(_UPSERT, [list(column) for column in zip(*chunk, strict=True)])
            accepted.extend(cursor.fetchall())
    return accepted


_SUSPEND = """
UPDATE edges_oddsquote AS q SET is_suspended = true
FROM edges_outcome o, edges_market m,
     unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::bigint[])
       AS cur (book_id, event_id, key, player, period, market_id)
WHERE q.outcome_id = o.id AND o.market_id = m.id AND q.sportsbook_id = cur.book_id
  AND m.event_id = cur.event_id AND m.key = cur.key AND m.player = cur.player AND m.period = cur.period
  AND m.id <> cur.market_id AND NOT q.is_suspended
"""


def _suspend_moved_lines(accepted: list[tuple], lines: dict[int, tuple]) -> None:
    """A book hangs one line per market family: when it posts a new number, its quotes on
    the family's other lines are withdrawn (suspended), as the feed no longer lists them."""
    by_family: dict[tuple, set[int]] = defaultdict(set)
    for outcome_id, book_id, _price, _version, _suspended in accepted:
        info = lines.get(outcome_id)
        if info is not None:
            by_family[(book_id, *info[:4])].add(info[4])
    # a book listing several lines of one family in the batch (alternate lines) keeps them all
    rows = [(*family, next(iter(markets))) for family, markets in by_family.items() if len(markets) == 1]
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(_SUSPEND, [list(column) for column in zip(*rows, strict=True)])


def version_of(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def ingest_updates(
    *,
    updates: list[QuoteUpdate],
    events: list[EventData] | None = None,
    now: datetime | None = None,
    report: IngestReport | None = None,
) -> IngestReport:
    """Apply a batch of quote updates in one transaction (retried once if a cached id went
    away). Updates older than (or as old as) the stored quote are ignored."""
    report = report or IngestReport()
    try:
        return _ingest(updates=updates, events=events or [], now=now, report=report)
    except IntegrityError:
        logger.warning("ingest hit a missing row; clearing id caches and retrying", exc_info=True)
        clear_identity_caches()
        return _ingest(updates=updates, events=events or [], now=now, report=report)


@transaction.atomic
def _ingest(
    *, updates: list[QuoteUpdate], events: list[EventData], now: datetime | None, report: IngestReport
) -> IngestReport:
    started = time.perf_counter()
    wall_started = time.time()
    now = now or timezone.now()
    report.events += _ensure_events(events)
    report.quotes_received += len(updates)
    if not updates:
        return report
    books = _book_infos(updates)
    event_rows = {
        provider_id: (pk, status, sport_key, home, away, commence)
        for pk, provider_id, status, sport_key, home, away, commence in Event.objects.filter(
            provider_id__in={u.event_provider_id for u in updates}
        ).values_list("id", "provider_id", "status", "sport__key", "home_team", "away_team", "commence_time")
    }
    usable: list[tuple[QuoteUpdate, int]] = []
    for u in updates:
        row = event_rows.get(u.event_provider_id)
        if row is None:
            report.problem(f"event {u.event_provider_id}", "unknown event")
            continue
        if row[1] in (Event.Status.FINAL, Event.Status.CANCELLED):
            report.problem(f"event {u.event_provider_id}", "event is over")
            continue
        usable.append((u, row[0]))
    market_keys = {(event_pk, u.market_key, u.player, u.period, u.line) for u, event_pk in usable}
    _resolve_markets(market_keys)
    wanted = {}
    for u, event_pk in usable:
        wanted[(_market_ids[(event_pk, u.market_key, u.player, u.period, u.line)], u.outcome_name)] = (
            u.outcome_point
        )
    _resolve_outcomes(wanted)

    latest: dict[tuple[int, int], tuple] = {}
    lines: dict[int, tuple] = {}  # outcome -> (event, key, player, period, market) for lined markets
    for u, event_pk in usable:
        market_id = _market_ids[(event_pk, u.market_key, u.player, u.period, u.line)]
        if u.line is not None:
            lines[_outcome_ids[(market_id, u.outcome_name)]] = (
                event_pk,
                u.market_key,
                u.player,
                u.period,
                market_id,
            )
        outcome_id = _outcome_ids[(market_id, u.outcome_name)]
        book_id = books[u.book_key].id
        version = version_of(u.last_update)
        key = (outcome_id, book_id)
        if key in latest and latest[key][7] >= version:
            report.quotes_ignored += 1
            continue
        if key in latest:
            report.quotes_ignored += 1
        latest[key] = (
            outcome_id,
            book_id,
            u.price_decimal,
            u.price_american,
            u.outcome_point,
            u.last_update,
            now,
            version,
            u.is_suspended,
        )
    accepted = _upsert_quotes(list(latest.values()))
    report.quotes_accepted += len(accepted)
    report.quotes_ignored += len(latest) - len(accepted)
    if accepted:
        _suspend_moved_lines(accepted, lines)
    if accepted:
        _recompute(accepted=accepted, books=books, now=now, report=report, batch_at=wall_started)
    report.seconds += time.perf_counter() - started
    return report


def _recompute(
    *,
    accepted: list[tuple],
    books: dict[str, finder.BookInfo],
    now: datetime,
    report: IngestReport,
    batch_at: float,
) -> None:
    books_by_id = {b.id: b for b in books.values()}
    accepted_outcomes = {row[0] for row in accepted}
    touched_markets = set(
        Outcome.objects.filter(pk__in=accepted_outcomes).values_list("market_id", flat=True).distinct()
    )
    report.markets_touched += len(touched_markets)
    touched = list(
        Market.objects.filter(pk__in=touched_markets).values_list("event_id", "key", "player", "period")
    )
    families = set(touched)
    event_ids = {f[0] for f in families}
    markets: dict[tuple, list[finder.MarketInfo]] = defaultdict(list)
    all_markets: dict[int, finder.MarketInfo] = {}
    for pk, event_id, key, player, period, point in Market.objects.filter(event_id__in=event_ids).values_list(
        "id", "event_id", "key", "player", "period", "point"
    ):
        if (event_id, key, player, period) in families:
            info = finder.MarketInfo(pk, event_id, key, player, period, point)
            markets[(event_id, key, player, period)].append(info)
            all_markets[pk] = info
    events = {
        pk: finder.EventInfo(pk, sport_key, home, away, commence)
        for pk, sport_key, home, away, commence, status in Event.objects.filter(pk__in=event_ids).values_list(
            "id", "sport__key", "home_team", "away_team", "commence_time", "status"
        )
    }
    open_events = {pk for pk, e in events.items() if e.commence_time > now}
    rows_by_market: dict[int, list[finder.QuoteRow]] = defaultdict(list)
    snapshot_rows: dict[int, list[tuple]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT q.outcome_id, o.market_id, o.name, o.point, q.sportsbook_id, q.price_decimal, q.price_american,"
            " q.last_update, q.version, q.is_suspended FROM edges_oddsquote q JOIN edges_outcome o ON o.id = q.outcome_id"
            " WHERE o.market_id = ANY(%s)",
            [list(all_markets)],
        )
        for (
            outcome_id,
            market_id,
            name,
            point,
            book_id,
            price,
            american,
            last_update,
            version,
            suspended,
        ) in cursor:
            if market_id in touched_markets:
                snapshot_rows[market_id].append(
                    (outcome_id, books_by_id[book_id].key, price, version, suspended)
                )
            if suspended:
                continue
            rows_by_market[market_id].append(
                finder.QuoteRow(
                    outcome_id, market_id, name, point, book_id, price, american, last_update, version
                )
            )
    found: list[finder.FoundEdge] = []
    for family, infos in markets.items():
        if family[0] not in open_events:
            continue
        family_rows = [row for info in infos for row in rows_by_market.get(info.id, [])]
        found.extend(
            finder.find_edges(
                event=events[family[0]], markets=infos, rows=family_rows, books=books_by_id, now=now
            )
        )
    upserted, removed = _store_edges(
        found=found, market_ids=list(all_markets), markets=all_markets, events=events, now=now
    )
    report.edges_upserted += len(upserted)
    report.edges_removed += len(removed)

    market_objs = {m.pk: m for m in Market.objects.filter(pk__in=touched_markets).select_related("event")}
    from edges.selectors import snapshot_from_rows

    snapshots = [
        (pk, snapshot_from_rows(market=market_objs[pk], rows=snapshot_rows[pk], now=now))
        for pk in touched_markets
        if pk in market_objs
    ]
    quotes_by_event: dict[int, list[dict]] = defaultdict(list)
    outcome_market = dict(Outcome.objects.filter(pk__in=accepted_outcomes).values_list("id", "market_id"))
    for outcome_id, book_id, price, version, suspended in accepted:
        market = all_markets.get(outcome_market[outcome_id])
        if market is None:
            continue
        quotes_by_event[market.event_id].append(
            {
                "outcome_id": outcome_id,
                "market_id": market.id,
                "sportsbook": books_by_id[book_id].key,
                "price_decimal": str(price),
                "version": version,
                "is_suspended": suspended,
            }
        )

    def after_commit() -> None:
        try:
            cache.snapshot_set_many(snapshots)
        except Exception:
            logger.warning("odds cache write failed", exc_info=True)

    transaction.on_commit(after_commit)
    groups = realtime.quote_groups(quotes_by_event)
    realtime.edge_groups(upserted, removed, reason="gone", into=groups)
    realtime.send_groups(groups, on_commit=True, batch_at=batch_at)


_EDGE_FIELDS = [
    "kind",
    "status",
    "sport_key",
    "event",
    "market",
    "outcome",
    "sportsbook",
    "market_type",
    "player",
    "line",
    "side",
    "best_odds_american",
    "best_odds_decimal",
    "fair_probability",
    "fair_odds_decimal",
    "edge_percentage",
    "expected_value_per_dollar",
    "kelly_fraction",
    "devig_method",
    "reference",
    "confidence",
    "books_in_consensus",
    "reference_age_seconds",
    "legs",
    "middle_low",
    "middle_high",
    "context",
    "oldest_quote_at",
    "stale_after",
    "version",
    "discovered_at",
    "updated_at",
    "expires_at",
]


def _store_edges(
    *,
    found: list[finder.FoundEdge],
    market_ids: list[int],
    markets: dict[int, finder.MarketInfo],
    events: dict[int, finder.EventInfo],
    now: datetime,
) -> tuple[list[Edge], list[Edge]]:
    ids = [f.edge_id for f in found]
    existing = {
        edge_id: (pk, status, discovered, version)
        for edge_id, pk, status, discovered, version in Edge.objects.filter(
            Q(market_id__in=market_ids, status__in=[Edge.Status.ACTIVE, Edge.Status.STALE])
            | Q(edge_id__in=ids)
        ).values_list("edge_id", "id", "status", "discovered_at", "version")
    }
    objs = []
    for f in found:
        market = markets[f.market_id]
        event = events[market.event_id]
        previous = existing.get(f.edge_id)
        status = Edge.Status.STALE if f.stale_after <= now else Edge.Status.ACTIVE
        if previous and previous[1] == status and f.version <= previous[3]:
            continue  # nothing it rests on moved: no write, no delta
        discovered = previous[2] if previous and previous[1] != Edge.Status.EXPIRED else now
        fair_odds = None
        if f.fair_probability and f.kind == "positive_ev":
            fair_odds = (Decimal(1) / Decimal(repr(f.fair_probability))).quantize(Decimal("0.000001"))
        objs.append(
            Edge(
                edge_id=f.edge_id,
                kind=f.kind,
                status=status,
                sport_key=event.sport_key,
                event_id=event.id,
                market_id=f.market_id,
                outcome_id=f.outcome_id,
                sportsbook_id=f.sportsbook_id,
                market_type=market.key,
                player=market.player,
                line=f.line,
                side=f.side,
                best_odds_american=f.best_odds_american,
                best_odds_decimal=f.best_odds_decimal,
                fair_probability=f.fair_probability,
                fair_odds_decimal=fair_odds,
                edge_percentage=f.edge_percentage,
                expected_value_per_dollar=f.expected_value_per_dollar,
                kelly_fraction=f.kelly_fraction,
                devig_method="multiplicative",
                reference=f.reference,
                confidence=f.confidence,
                books_in_consensus=f.books_in_consensus,
                reference_age_seconds=f.reference_age_seconds,
                legs=f.legs,
                middle_low=f.middle_low,
                middle_high=f.middle_high,
                context={
                    "home_team": event.home_team,
                    "away_team": event.away_team,
                    "matchup": f"{event.away_team} @ {event.home_team}",
                    "commence_time": event.commence_time.isoformat(),
                },
                oldest_quote_at=f.oldest_quote_at,
                stale_after=f.stale_after,
                # strictly increasing per edge, so a client keeping the highest version never
                # drops a real change
                version=max(f.version, previous[3] + 1) if previous else f.version,
                discovered_at=discovered,
                updated_at=now,
                expires_at=event.commence_time,
            )
        )
    upserted: list[Edge] = []
    if objs:
        Edge.objects.bulk_create(
            objs,
            update_conflicts=True,
            unique_fields=["edge_id"],
            update_fields=[f for f in _EDGE_FIELDS if f != "discovered_at"] + ["discovered_at"],
        )
        event_objs = {e.pk: e for e in Event.objects.filter(pk__in={o.event_id for o in objs})}
        book_objs = {b.pk: b for b in Sportsbook.objects.all()}
        for obj in objs:
            obj.event = event_objs[obj.event_id]
            obj.sportsbook = book_objs.get(obj.sportsbook_id)
        upserted = objs
    found_ids = set(ids)
    gone = [
        pk
        for edge_id, (pk, status, _d, _v) in existing.items()
        if edge_id not in found_ids and status != Edge.Status.EXPIRED
    ]
    removed: list[Edge] = []
    if gone:
        Edge.objects.filter(pk__in=gone).update(
            status=Edge.Status.EXPIRED,
            updated_at=now,
            version=Greatest(F("version") + 1, Value(version_of(now))),
        )
        removed = list(Edge.objects.filter(pk__in=gone).select_related("event", "sportsbook"))
    return upserted, removed
