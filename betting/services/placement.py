"""Placing bets.

`bet_place` is three steps, and the venue is never called inside a database transaction:

1. **Check** (no locks): the account, the verification table, KYC and geo hooks, the slip
   (shape, open markets, fresh quotes, price policy, combined price) and the house's caps.
2. **Reserve** (one statement, its own transaction: `betting_bet_reserve`, see
   services/reserve.py): the user's wallet accounts and user row are locked, so concurrent
   bets of one user are serialised and a limit or self-exclusion changed a moment ago is what
   counts; the limits are checked against the sums under that lock; the bet is written as
   `placing` with its legs and the stake is held. Then it commits.
3. **Execute and book** (no locks while the venue works): the venue fills or rejects the
   ticket; a second short statement books the outcome once (`placing` -> `pending` with the
   venue's ticket and `bet.placed`, or `placing` -> `rejected` with the stake released). A slow
   venue holds no lock; a failing one leaves a rejected bet and the stake back in cash.

The venue connector's contract (betting/venues.py): `execute` raises only when the ticket
was not filled. A bet left `placing` (a process killed mid-call, or a fill lost in a
database crash, since the fill does not wait for its WAL flush) keeps its stake held until
the recovery sweep (services/recovery.py) asks the venue and books the fill or releases
the stake.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from betthat.core.db import prepared_cursor, single_statement_transaction
from betthat.core.errors import ApplicationError, NotFound
from betthat.core.odds import decimal_to_american
from betthat.core.outbox import nudge_after_claim, nudge_claim_queue
from betthat.users.compliance import check_capability, check_geo, check_kyc
from betthat.users.models import User
from betting import exposure, grading
from betting.models import Bet, BetLeg
from betting.services.records import bet_event_payload
from betting.services.reserve import account_suspended, bet_reserve, self_excluded
from betting.services.slip import (
    PRICE_POLICIES,
    LegRequest,
    PricedSlip,
    PricePolicy,
    check_house_caps,
    leg_attributes,
    leg_type,
    price_slip,
)
from betting.venues import Execution, Ticket, venue
from edges.selectors import edge_snapshot
from wallet.services import wallet_release

logger = logging.getLogger(__name__)

__all__ = ["PRICE_POLICIES", "LegRequest", "PricePolicy", "bet_event_payload", "bet_place"]

KELLY_PLACES = Decimal("0.000001")


@dataclass
class _EdgeSnapshot:
    kelly_fraction: Decimal
    fair_odds_decimal: Decimal | None
    record: dict[str, Any]  # the edge as it stood at placement, kept on the bet


def check_account(user: User) -> None:
    """The account may bet: logged in, active, not self-excluded."""
    if not user.is_authenticated:
        raise ApplicationError("Log in to bet.", code="not_authenticated", status=401)
    if not user.is_active or user.status != User.Status.ACTIVE:
        raise account_suspended()
    if user.is_self_excluded:
        raise self_excluded(user.self_excluded_until)


def _check_stake(stake_minor: int, currency: str) -> None:
    from django.conf import settings

    if isinstance(stake_minor, bool) or not isinstance(stake_minor, int) or stake_minor <= 0:
        raise ApplicationError("The stake must be a positive amount.", code="invalid_amount")
    if currency not in settings.CURRENCIES:
        raise ApplicationError(
            f"{currency} is not a supported currency.",
            code="validation_error",
            details={"currency": currency},
        )


def _check_bettor(user: User, *, stake_minor: int, currency: str, client_ip: str) -> None:
    check_account(user)
    _check_stake(stake_minor, currency)
    check_capability(user, "bet")
    check_kyc(user, amount_minor=stake_minor)
    check_geo(user, client_ip=client_ip)


def _edge_snapshot(edge_id: str) -> _EdgeSnapshot | None:
    if not edge_id:
        return None
    edge = edge_snapshot(edge_id=edge_id)
    if edge is None:
        raise NotFound(f"No edge {edge_id}.", details={"edge_id": edge_id})
    fair = edge["fair_odds_decimal"]
    return _EdgeSnapshot(
        kelly_fraction=Decimal(repr(edge["kelly_fraction"])).quantize(KELLY_PLACES),
        fair_odds_decimal=None if fair is None else Decimal(fair),
        record=edge,
    )


def _new_bet(
    *,
    user: User,
    slip: PricedSlip,
    stake_minor: int,
    currency: str,
    edge_id: str,
    edge: _EdgeSnapshot | None,
    idempotency_key: str,
    now: datetime,
) -> tuple[Bet, list[BetLeg]]:
    events = slip.event_ids
    first = slip.legs[0].outcome
    bet = Bet(
        user_id=user.pk,
        event_id=events.pop() if len(events) == 1 else None,
        edge_id=edge_id,
        kind=slip.kind,
        market_type=slip.market_type,
        sport_key=first.market.event.sport.key,
        currency=currency,
        stake_minor=stake_minor,
        odds_decimal=slip.price,
        odds_american=decimal_to_american(slip.price),
        potential_return_minor=grading.potential_return_minor(stake_minor, slip.price),
        status=Bet.Status.PLACING,
        sportsbook_id=slip.book,
        placed_at=now,
        kelly_fraction=edge.kelly_fraction if edge else None,
        fair_odds_decimal=edge.fair_odds_decimal if edge else None,
        edge_snapshot=edge.record if edge else None,
        limits_in_force={},  # the reserve statement writes the headroom it checked
        idempotency_key=idempotency_key,
        created_by_id=user.pk,
    )
    legs = [
        BetLeg(
            position=index,
            event_id=p.outcome.market.event_id,
            market_id=p.outcome.market_id,
            outcome_id=p.outcome.pk,
            price_decimal=p.price,
            quote_version=p.version,
            point=p.outcome.point if p.outcome.point is not None else p.outcome.market.point,
            leg_type=leg_type(slip.kind, p.outcome),
            attributes=leg_attributes(p.outcome),
        )
        for index, p in enumerate(slip.legs)
    ]
    return bet, legs


def _execute(bet: Bet, slip: PricedSlip) -> Execution | None:
    """Ask the venue to fill the ticket (no transaction open, no row locked). None when the
    venue could not be reached (a connector that raises did not fill it)."""
    ticket = Ticket(
        bet.pk,
        bet.user_id,
        slip.book,
        bet.stake_minor,
        bet.currency,
        slip.price,
        tuple(p.outcome.pk for p in slip.legs),
    )
    try:
        return venue().execute(ticket)
    except Exception as error:
        logger.warning("venue %s failed on bet %s: %r", slip.book, bet.pk, error)
        return None


# The fill, booked once in one statement: `placing` -> `pending` and its `bet.placed` event.
_FILL_SQL = """
WITH filled AS (
    UPDATE betting_bet SET status = 'pending', external_id = %(external_id)s, updated_at = %(now)s
     WHERE id = %(bet_id)s AND status = 'placing'
    RETURNING id
)
INSERT INTO core_outboxevent (event_id, event_type, payload, created_at, delivered_at, attempts, last_error)
SELECT %(event_id)s, 'bet.placed', %(payload)s::jsonb, %(now)s, NULL, 0, '' FROM filled
RETURNING id
"""
# The same when the fill is its own transaction (autocommit): it commits without waiting for
# its WAL to reach the disk (`synchronous_commit` off for this transaction alone, set inside
# the statement so that it costs no round trip). The reservation, which moves the money,
# committed synchronously before the venue was asked; a fill lost in a database crash leaves
# a `placing` bet with its stake held, which the recovery sweep books from the venue's ticket
# (services/recovery.py). A later synchronous commit (a settlement, a cancel, the relay
# marking `bet.placed` delivered) flushes the WAL up to itself, so nothing that depends on
# the fill can outlive it. docs/betting.md, "Placement and durability".
_FILL_NOT_WAITING_SQL = """
WITH filled AS (
    UPDATE betting_bet SET status = 'pending', external_id = %(external_id)s, updated_at = %(now)s
     WHERE id = %(bet_id)s AND status = 'placing'
    RETURNING id
), not_waiting AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true) AS value)
INSERT INTO core_outboxevent (event_id, event_type, payload, created_at, delivered_at, attempts, last_error)
SELECT %(event_id)s, 'bet.placed', %(payload)s::jsonb, %(now)s, NULL, 0, '' FROM filled, not_waiting
RETURNING id
"""
# `bet.placed` has one id per bet, so that a fill booked again by the recovery sweep (the
# first lost in a crash, perhaps after its event was relayed) is the same event to the
# handlers, which are idempotent by event id.
_BET_PLACED_NAMESPACE = uuid.UUID("6f1c1d3e-5a8b-4c57-9a3e-2b7d0c9e4f10")


def bet_placed_event_id(bet_id: int) -> uuid.UUID:
    return uuid.uuid5(_BET_PLACED_NAMESPACE, str(bet_id))


def book_fill(bet: Bet, legs: list[BetLeg], execution: Execution) -> Bet:
    """`placing` -> `pending` with the venue's ticket, `bet.placed` and the exposure."""
    now = timezone.now()
    bet.status = Bet.Status.PENDING
    bet.external_id = execution.external_id
    bet.updated_at = now
    params: dict[str, Any] = {
        "bet_id": bet.pk,
        "external_id": execution.external_id,
        "now": now,
        "event_id": bet_placed_event_id(bet.pk),
        "payload": json.dumps(bet_event_payload(bet, legs), cls=DjangoJSONEncoder),
    }
    # Inside a caller's transaction the setting would cover the caller's writes too.
    is_own_transaction = not transaction.get_connection().in_atomic_block
    with single_statement_transaction(), prepared_cursor() as cursor:
        cursor.execute(_FILL_NOT_WAITING_SQL if is_own_transaction else _FILL_SQL, params)
        filled = cursor.fetchone()
    if filled is None:  # staff voided it while the venue worked: the void stands
        logger.error("bet %s was voided while %s filled it", bet.pk, bet.sportsbook_id)
        raise ApplicationError("The bet was voided while it was being placed.", code="conflict", status=409)
    bet.placed_legs = legs  # type: ignore[attr-defined]  # the response needs no second read
    deltas = exposure.deltas_for(
        [(leg.event_id, leg.market_id) for leg in legs],
        bet.stake_minor,
        bet.potential_return_minor - bet.stake_minor,
        +1,
    )
    transaction.on_commit(lambda: _after_fill(deltas))
    return bet


def _after_fill(deltas: list[exposure.Delta]) -> None:
    """After the fill commits: the exposure and the outbox relay's nudge claim in one Redis
    round trip (they were two, each with its own pipeline or command: about 3 ms of a
    placement's CPU under cProfile), then the relay task if the claim won. Both are views or
    hints: a failure is logged and the committed bet stands (the exposure is rebuilt from the
    database, the periodic relay delivers `bet.placed` within a second)."""
    pipe = exposure.client().pipeline(transaction=False)
    exposure.queue_deltas(pipe, deltas)
    claiming = nudge_claim_queue(pipe)
    try:
        replies: list[Any] = pipe.execute()
    except Exception:  # not only RedisError: see exposure._apply
        logger.exception("the fill's exposure update and nudge failed")
        if claiming:
            nudge_after_claim(None, failed=True)
        return
    if claiming:
        nudge_after_claim(replies[-1])


def release_placing(*, user: User, bet: Bet, reason: str) -> bool:
    """`placing` -> `rejected` with the stake released and the Idempotency-Key freed, once:
    False when the bet was no longer `placing` (filled, voided or released already)."""
    with transaction.atomic():
        locked = Bet.objects.select_for_update().filter(pk=bet.pk, status=Bet.Status.PLACING).first()
        if locked is None:
            return False
        wallet_release(
            user=user, amount_minor=bet.stake_minor, currency=bet.currency, bet_id=bet.pk, created_by=user
        )
        Bet.objects.filter(pk=bet.pk).update(
            status=Bet.Status.REJECTED,
            idempotency_key="",
            settlement_note=reason[:300],
            updated_at=timezone.now(),
        )
    return True


def _book_rejection(user: User, bet: Bet, execution: Execution | None) -> ApplicationError:
    """`placing` -> `rejected`, the stake released; the Idempotency-Key is freed for a retry.
    Returns the refusal for the caller to raise."""
    unavailable = execution is None
    if execution is None:
        reason = "The sportsbook could not be reached."
    else:
        reason = execution.reason or "The sportsbook rejected the bet."
    release_placing(user=user, bet=bet, reason=reason)
    if unavailable:
        return ApplicationError(
            f"{bet.sportsbook_id} could not be reached; nothing was staked. Try again.",
            code="venue_unavailable",
            status=503,
            details={"sportsbook": bet.sportsbook_id},
        )
    return ApplicationError(
        reason,
        code="venue_rejected",
        status=409,
        details={"sportsbook": bet.sportsbook_id, "venue_rejected": True},
    )


def bet_place(
    *,
    user: User,
    legs: list[LegRequest],
    stake_minor: int,
    currency: str = "USD",
    accept_price_change: PricePolicy | str = "none",
    edge_id: str = "",
    idempotency_key: str = "",
    client_ip: str = "",
) -> Bet:
    """Place a straight bet (one leg) or a parlay (2 to BETTING_MAX_LEGS legs) at one book.

    Guarantees: the stake is held before the venue is asked and released if the venue does
    not fill; `bet.placed` is published only for a filled bet; the user's limits, balance and
    self-exclusion hold under concurrent placements (checked under the wallet and user
    locks, in the transaction that holds the stake); no lock is held while the venue works.
    Call it outside a transaction, or the locks are held across the venue call.
    """
    # The geo hook decides from the client's address (betthat.core.client_ip), never from a
    # region the client names.
    _check_bettor(user, stake_minor=stake_minor, currency=currency, client_ip=client_ip)
    slip = price_slip(legs=legs, policy=accept_price_change)
    check_house_caps(
        price=slip.price, potential_return_minor=grading.potential_return_minor(stake_minor, slip.price)
    )
    edge = _edge_snapshot(edge_id)
    now = timezone.now()
    bet, bet_legs = _new_bet(
        user=user,
        slip=slip,
        stake_minor=stake_minor,
        currency=currency,
        edge_id=edge_id,
        edge=edge,
        idempotency_key=idempotency_key,
        now=now,
    )
    # One statement: lock, re-read the user, check the limits, write the `placing` bet and
    # hold the stake.
    bet_reserve(
        user=user, bet=bet, legs=bet_legs, kelly_fraction=edge.kelly_fraction if edge else None, now=now
    )
    execution = _execute(bet, slip)
    if execution is None or not execution.is_accepted:
        raise _book_rejection(user, bet, execution)
    return book_fill(bet, bet_legs, execution)
