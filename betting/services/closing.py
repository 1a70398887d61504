"""Closing line value: the last price before the event started, at the bet's venue and
from the reference line with the margin removed.

Captured when an event starts (the `event.started` handler) and by a periodic sweep for
anything missed. For each leg: the venue's closing price and the de-vigged fair
probability. For the bet (once every leg has closed): the closing price (the product over
legs for a parlay), `clv_percent = taken / closing - 1` and `ev_vs_close = fair x taken - 1`.
A leg without a closing quote leaves the bet without a CLV and `clv_note` says why.
Same-game parlays are priced as a combination that has no closing quote, so they say so.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from betting import grading
from betting.models import Bet, BetLeg
from edges.models import Event
from edges.selectors import fair_probability_for_outcome, quote_price_closing

PROBABILITY_PLACES = Decimal("0.000001")


def _closing_quote(outcome_id: int, book: str) -> Decimal | None:
    return quote_price_closing(outcome_id=outcome_id, sportsbook_key=book)


def bet_closing_lines_capture(*, event_id: int, now: datetime | None = None) -> int:
    """Record the closing prices of the legs on `event_id` and the CLV of every bet whose
    legs have all closed. Idempotent: legs already closed are left alone. Returns the
    number of bets whose CLV was decided."""
    now = now or timezone.now()
    event = Event.objects.filter(pk=event_id).first()
    if event is None or (event.status == Event.Status.SCHEDULED and event.commence_time > now):
        return 0
    with transaction.atomic():
        legs = list(
            BetLeg.objects.select_for_update(of=("self",))
            .select_related("bet")
            .filter(event_id=event_id, bet__clv_captured_at__isnull=True)
            .exclude(bet__status__in=[Bet.Status.CANCELLED, Bet.Status.REJECTED, Bet.Status.PLACING])
        )
        closes: dict[tuple[int, str], Decimal | None] = {}
        fairs: dict[int, Decimal | None] = {}
        for leg in legs:
            key = (leg.outcome_id, leg.bet.sportsbook_id)
            if key not in closes:
                closes[key] = _closing_quote(leg.outcome_id, leg.bet.sportsbook_id)
            if leg.outcome_id not in fairs:
                fair = fair_probability_for_outcome(outcome_id=leg.outcome_id)
                fairs[leg.outcome_id] = (
                    None if fair is None else Decimal(repr(fair)).quantize(PROBABILITY_PLACES)
                )
            if leg.closing_price_decimal is None:
                leg.closing_price_decimal = closes[key]
                leg.closing_fair_probability = fairs[leg.outcome_id]
        BetLeg.objects.bulk_update(legs, ["closing_price_decimal", "closing_fair_probability"])
        decided = 0
        for bet_id in {leg.bet_id for leg in legs}:
            decided += _bet_clv_decide(bet_id, now=now)
    return decided


def _bet_clv_decide(bet_id: int, *, now: datetime) -> int:
    bet = Bet.objects.select_for_update().get(pk=bet_id)
    if bet.clv_captured_at is not None:
        return 0
    legs = list(bet.legs.select_related("event"))
    if any(leg.event.status == Event.Status.SCHEDULED and leg.event.commence_time > now for leg in legs):
        return 0  # a later leg has not started yet
    bet.clv_captured_at = now
    if bet.kind == Bet.Kind.SAME_GAME:
        bet.clv_note = "Same-game parlays have no closing price."
    elif any(leg.closing_price_decimal is None for leg in legs):
        bet.clv_note = f"No closing price at {bet.sportsbook_id}."
    else:
        closes = [leg.closing_price_decimal for leg in legs if leg.closing_price_decimal is not None]
        closing = grading.combined_price(closes) if len(closes) > 1 else closes[0]
        bet.closing_odds_decimal = closing
        bet.clv_percent = grading.clv_percent(bet.odds_decimal, closing)
        fairs = [leg.closing_fair_probability for leg in legs if leg.closing_fair_probability is not None]
        if len(fairs) == len(legs):
            fair = Decimal(1)
            for probability in fairs:
                fair *= probability
            bet.closing_fair_probability = fair.quantize(PROBABILITY_PLACES)
            bet.ev_vs_close = grading.ev_against_close(bet.odds_decimal, fair)
            bet.clv_note = ""
        else:
            bet.clv_note = "No reference line to de-vig at the close."
    bet.save(
        update_fields=[
            "clv_captured_at",
            "clv_note",
            "closing_odds_decimal",
            "clv_percent",
            "closing_fair_probability",
            "ev_vs_close",
            "updated_at",
        ]
    )
    return 1


def closing_lines_capture_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """The periodic sweep: events that have started and still have bets without a CLV."""
    now = now or timezone.now()
    event_ids = list(
        BetLeg.objects.filter(
            bet__clv_captured_at__isnull=True, bet__status__in=["pending", "settled", "void"]
        )
        .filter(event__commence_time__lte=now)
        .values_list("event_id", flat=True)
        .distinct()[:limit]
    )
    return sum(bet_closing_lines_capture(event_id=event_id, now=now) for event_id in event_ids)
