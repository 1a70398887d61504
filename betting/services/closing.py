"""Closing line value: the last price before the event started, at the bet's venue and
from the reference line with the margin removed.

Captured when an event starts (the `event.started` handler) and by a periodic sweep for
anything missed. For each leg: the venue's closing price and the de-vigged fair
probability. For the bet (once every leg has closed): the closing price (the product over
legs for a parlay), `clv_percent = taken / closing - 1` and `ev_vs_close = fair x taken - 1`.
A leg without a closing quote leaves the bet without a CLV and `clv_note` says why.
Same-game parlays are priced as a combination that has no closing quote, so they say so.

Kick-off at scale: a popular game has thousands of open bets. The capture is set-based
and chunked: the closes are per (outcome, book), a few hundred per event, so the legs are
written by one `UPDATE ... FROM unnest(arrays)` (a VALUES list bound as a few arrays: six
parameters whatever its length) per chunk of `CHUNK` legs, and the bets' CLV by one such
`UPDATE` per chunk of `CHUNK` bets, each its own short statement:
no long transaction, no lock held across the run. One capture per event runs at a time and
one sweep at a time (PostgreSQL advisory locks, released if the worker dies); a second
copy returns at once instead of waiting on the first one's locks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from betting import grading
from betting.locks import exclusive
from betting.models import Bet, BetLeg
from edges.models import Event
from edges.selectors import event_get, fair_probability_for_outcome, quote_prices_closing

PROBABILITY_PLACES = Decimal("0.000001")
CHUNK = 5000
CAPTURED_STATUSES = (Bet.Status.PENDING, Bet.Status.SETTLED, Bet.Status.VOID)


def _chunks(items: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _has_started(event: Event, now: datetime) -> bool:
    return not (event.status == Event.Status.SCHEDULED and event.commence_time > now)


def _fair(outcome_id: int) -> Decimal | None:
    fair = fair_probability_for_outcome(outcome_id=outcome_id)
    return None if fair is None else Decimal(repr(fair)).quantize(PROBABILITY_PLACES)


_LEG_CLOSES_SQL = """
UPDATE betting_betleg l
   SET closing_price_decimal = v.price, closing_fair_probability = v.fair
  FROM unnest(%s::bigint[], %s::text[], %s::numeric[], %s::numeric[]) AS v(outcome_id, book, price, fair),
       betting_bet b
 WHERE l.id = ANY(%s) AND b.id = l.bet_id AND l.outcome_id = v.outcome_id AND b.sportsbook_id = v.book
   AND l.closing_price_decimal IS NULL AND b.clv_captured_at IS NULL
"""


def _record_leg_closes(event_id: int) -> None:
    """Every open leg on the event gets its book's closing price and the fair probability."""
    legs = BetLeg.objects.filter(
        event_id=event_id,
        closing_price_decimal__isnull=True,
        bet__clv_captured_at__isnull=True,
        bet__status__in=CAPTURED_STATUSES,
    )
    pairs: list[tuple[int, str]] = sorted(
        {
            (int(outcome_id), str(book))
            for outcome_id, book in legs.values_list("outcome_id", "bet__sportsbook_id")
        }
    )
    if not pairs:
        return
    closes = quote_prices_closing(pairs=pairs)
    fairs = {outcome_id: _fair(outcome_id) for outcome_id in {outcome for outcome, _book in pairs}}
    params: list[Any] = [
        [outcome_id for outcome_id, _book in pairs],
        [book for _outcome_id, book in pairs],
        [closes.get(pair) for pair in pairs],
        [fairs[outcome_id] for outcome_id, _book in pairs],
    ]
    for chunk in _chunks(list(legs.order_by("id").values_list("id", flat=True))):
        with connection.cursor() as cursor:
            cursor.execute(_LEG_CLOSES_SQL, [*params, chunk])


@dataclass(frozen=True)
class _LegClose:
    price: Decimal | None
    fair: Decimal | None
    has_started: bool


@dataclass(frozen=True)
class _Clv:
    note: str
    closing_odds: Decimal | None = None
    clv_percent: Decimal | None = None
    fair: Decimal | None = None
    ev: Decimal | None = None


def _clv_of(kind: str, taken: Decimal, book: str, legs: list[_LegClose]) -> _Clv | None:
    """The bet's CLV once every leg has closed (None while a later leg has not started)."""
    if not legs or not all(leg.has_started for leg in legs):
        return None
    if kind == Bet.Kind.SAME_GAME:
        return _Clv("Same-game parlays have no closing price.")
    closes = [leg.price for leg in legs if leg.price is not None]
    if len(closes) != len(legs):
        return _Clv(f"No closing price at {book}.")
    closing = grading.combined_price(closes) if len(closes) > 1 else closes[0]
    clv = grading.clv_percent(taken, closing)
    fairs = [leg.fair for leg in legs if leg.fair is not None]
    if len(fairs) != len(legs):
        return _Clv("No reference line to de-vig at the close.", closing, clv)
    fair = Decimal(1)
    for probability in fairs:
        fair *= probability
    fair = fair.quantize(PROBABILITY_PLACES)
    return _Clv("", closing, clv, fair, grading.ev_against_close(taken, fair))


_BET_CLV_SQL = """
UPDATE betting_bet b
   SET clv_captured_at = %s, updated_at = %s, clv_note = v.note, closing_odds_decimal = v.closing,
       clv_percent = v.clv, closing_fair_probability = v.fair, ev_vs_close = v.ev
  FROM unnest(%s::bigint[], %s::text[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[])
       AS v(id, note, closing, clv, fair, ev)
 WHERE b.id = v.id AND b.clv_captured_at IS NULL
"""


def _decide(bet_ids: list[int], *, now: datetime) -> int:
    """Decide the CLV of a chunk of bets whose legs may all have closed; one UPDATE."""
    legs: dict[int, list[_LegClose]] = defaultdict(list)
    for bet_id, price, fair, status, commence_time in BetLeg.objects.filter(bet_id__in=bet_ids).values_list(
        "bet_id", "closing_price_decimal", "closing_fair_probability", "event__status", "event__commence_time"
    ):
        started = not (status == Event.Status.SCHEDULED and commence_time > now)
        legs[bet_id].append(_LegClose(price, fair, started))
    rows: list[tuple[Any, ...]] = []
    bets = Bet.objects.filter(pk__in=bet_ids, clv_captured_at__isnull=True).values_list(
        "id", "kind", "odds_decimal", "sportsbook_id"
    )
    for bet_id, kind, taken, book in bets:
        clv = _clv_of(kind, taken, str(book), legs[bet_id])
        if clv is not None:
            rows.append((bet_id, clv.note, clv.closing_odds, clv.clv_percent, clv.fair, clv.ev))
    if not rows:
        return 0
    columns = [list(column) for column in zip(*rows, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(_BET_CLV_SQL, [now, now, *columns])
        return int(cursor.rowcount)


def bet_closing_lines_capture(*, event_id: int, now: datetime | None = None) -> int:
    """Record the closing prices of the legs on `event_id` and the CLV of every bet whose
    legs have all closed. Idempotent: legs already closed are left alone, a decided bet is
    never decided again. Returns the number of bets whose CLV was decided (0 as well when
    another capture of this event is running)."""
    now = now or timezone.now()
    event = event_get(event_id=event_id)
    if event is None or not _has_started(event, now):
        return 0
    with exclusive(f"clv-event:{event_id}") as acquired:
        if not acquired:
            return 0
        _record_leg_closes(event_id)
        bet_ids = list(
            Bet.objects.filter(
                legs__event_id=event_id, clv_captured_at__isnull=True, status__in=CAPTURED_STATUSES
            )
            .order_by("id")
            .values_list("id", flat=True)
            .distinct()
        )
        return sum(_decide(chunk, now=now) for chunk in _chunks(bet_ids))


def closing_lines_capture_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """The periodic sweep: events that have started and still have bets without a CLV.
    One sweep at a time; a second copy returns 0 at once."""
    now = now or timezone.now()
    with exclusive("clv-sweep") as acquired:
        if not acquired:
            return 0
        event_ids = list(
            BetLeg.objects.filter(bet__clv_captured_at__isnull=True, bet__status__in=CAPTURED_STATUSES)
            .filter(event__commence_time__lte=now)
            .values_list("event_id", flat=True)
            .distinct()[:limit]
        )
        return sum(bet_closing_lines_capture(event_id=event_id, now=now) for event_id in event_ids)
