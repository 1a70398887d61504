"""Placing bets.

`bet_place` is three steps, and the venue is never called inside a database transaction:

1. **Check** (no locks): the account, the verification table, KYC and geo hooks, the slip
   (shape, open markets, fresh quotes, price policy, combined price) and the house's caps.
2. **Reserve** (one transaction): the user's wallet accounts and user row are locked, so
   concurrent bets of one user are serialised and a limit or self-exclusion changed a moment
   ago is what counts; the limits are checked against the sums under that lock; the bet is
   written as `placing` with its legs and the stake is held. Then it commits.
3. **Execute and book** (no locks while the venue works): the venue fills or rejects the
   ticket; a second short transaction books the outcome once (`placing` -> `pending` with the
   venue's ticket and `bet.placed`, or `placing` -> `rejected` with the stake released). A slow
   venue holds no lock; a failing one leaves a rejected bet and the stake back in cash.

The venue connector's contract (betting/venues.py): `execute` raises only when the ticket
was not filled. A bet left `placing` by a process killed mid-call keeps its stake held and
shows as "Placing" until staff void it (it is never settled).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from betthat.core.errors import ApplicationError, NotFound
from betthat.core.outbox import publish
from betthat.users.compliance import check_capability, check_geo, check_kyc
from betthat.users.models import User
from betting import exposure, grading
from betting.models import Bet, BetLeg
from betting.services.limits import Headroom, check_limits, limit_headroom
from betting.services.records import bet_event_payload, insert_bet_with_legs
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
from edges import pricing
from edges.selectors import edge_sizing
from wallet.locks import lock_user_accounts
from wallet.services import wallet_hold, wallet_release

logger = logging.getLogger(__name__)

__all__ = ["PRICE_POLICIES", "LegRequest", "PricePolicy", "bet_event_payload", "bet_place"]

KELLY_PLACES = Decimal("0.000001")


@dataclass
class _EdgeSnapshot:
    kelly_fraction: Decimal
    fair_odds_decimal: Decimal | None
    recommended_stake_minor: int | None = None


def check_account(user: User) -> None:
    """The account may bet: logged in, active, not self-excluded."""
    if not user.is_authenticated:
        raise ApplicationError("Log in to bet.", code="not_authenticated", status=401)
    if not user.is_active or user.status != User.Status.ACTIVE:
        raise ApplicationError("Your account is not active.", code="account_suspended", status=403)
    if user.is_self_excluded:
        until = user.self_excluded_until
        raise ApplicationError(
            "You have excluded yourself from betting.",
            code="self_excluded",
            status=403,
            details={"until": until.isoformat() if until else None},
        )


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


def _check_bettor(user: User, *, stake_minor: int, currency: str, region: str) -> None:
    check_account(user)
    _check_stake(stake_minor, currency)
    check_capability(user, "bet")
    check_kyc(user, amount_minor=stake_minor)
    check_geo(user, region=region)


def _edge_snapshot(edge_id: str) -> _EdgeSnapshot | None:
    if not edge_id:
        return None
    edge = edge_sizing(edge_id=edge_id)
    if edge is None:
        raise NotFound(f"No edge {edge_id}.", details={"edge_id": edge_id})
    return _EdgeSnapshot(
        kelly_fraction=Decimal(repr(edge["kelly_fraction"])).quantize(KELLY_PLACES),
        fair_odds_decimal=edge["fair_odds_decimal"],
    )


def _locked_bettor(user_id: int) -> User:
    """The user row, locked and read fresh: limits and self-exclusion as they are now (a
    limit cut or an exclusion that committed a moment ago counts)."""
    fresh: User | None = User.objects.select_for_update(of=("self",)).filter(pk=user_id).first()
    if fresh is None:
        raise ApplicationError("Your account is not active.", code="account_suspended", status=403)
    check_account(fresh)
    return fresh


def _new_bet(
    *,
    user: User,
    slip: PricedSlip,
    stake_minor: int,
    currency: str,
    edge_id: str,
    edge: _EdgeSnapshot | None,
    headroom: Headroom,
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
        odds_american=grading.american_from_decimal(slip.price),
        potential_return_minor=grading.potential_return_minor(stake_minor, slip.price),
        status=Bet.Status.PLACING,
        sportsbook_id=slip.book,
        placed_at=now,
        kelly_fraction=edge.kelly_fraction if edge else None,
        fair_odds_decimal=edge.fair_odds_decimal if edge else None,
        recommended_stake_minor=edge.recommended_stake_minor if edge else None,
        limits_in_force=headroom.as_dict(),
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


def _reserve(
    *,
    user: User,
    slip: PricedSlip,
    stake_minor: int,
    currency: str,
    edge_id: str,
    edge: _EdgeSnapshot | None,
    idempotency_key: str,
) -> tuple[Bet, list[BetLeg]]:
    """One transaction: lock, re-read the user, check the limits, write the `placing` bet
    and hold the stake."""
    now = timezone.now()
    try:
        with transaction.atomic():
            accounts = lock_user_accounts(user_id=user.pk, currency=currency)
            bettor = _locked_bettor(user.pk)
            headroom = limit_headroom(user=bettor, currency=currency, now=now)
            check_limits(headroom=headroom, stake_minor=stake_minor)
            if edge is not None:
                edge.recommended_stake_minor = pricing.recommended_stake_minor(
                    available_minor=accounts.cash.balance_minor,
                    kelly_fraction=float(edge.kelly_fraction),
                    risk_tolerance=bettor.risk_tolerance,
                    max_kelly_fraction=bettor.max_kelly_fraction,
                    cap_minor=headroom.stake_cap_minor,
                )
            bet, legs = _new_bet(
                user=bettor,
                slip=slip,
                stake_minor=stake_minor,
                currency=currency,
                edge_id=edge_id,
                edge=edge,
                headroom=headroom,
                idempotency_key=idempotency_key,
                now=now,
            )
            insert_bet_with_legs(bet, legs)
            wallet_hold(
                user=bettor,
                amount_minor=stake_minor,
                currency=currency,
                bet_id=bet.pk,
                sportsbook_id=slip.book,
                created_by=bettor,
            )
    except IntegrityError as error:
        if idempotency_key and "bet_user_idempotency_uniq" in str(error):
            raise ApplicationError(
                "This Idempotency-Key was already used for another bet.",
                code="idempotency_conflict",
                status=409,
            ) from error
        raise
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


def _book_fill(bet: Bet, legs: list[BetLeg], execution: Execution) -> Bet:
    """`placing` -> `pending` with the venue's ticket, `bet.placed` and the exposure."""
    now = timezone.now()
    with transaction.atomic():
        updated = Bet.objects.filter(pk=bet.pk, status=Bet.Status.PLACING).update(
            status=Bet.Status.PENDING, external_id=execution.external_id, updated_at=now
        )
        if not updated:  # staff voided it while the venue worked: the void stands
            logger.error("bet %s was voided while %s filled it", bet.pk, bet.sportsbook_id)
            raise ApplicationError(
                "The bet was voided while it was being placed.", code="conflict", status=409
            )
        bet.status = Bet.Status.PENDING
        bet.external_id = execution.external_id
        bet.updated_at = now
        bet.placed_legs = legs  # type: ignore[attr-defined]  # the response needs no second read
        publish("bet.placed", bet_event_payload(bet, legs))
        exposure.exposure_add_on_commit(
            exposure.deltas_for(
                [(leg.event_id, leg.market_id) for leg in legs],
                bet.stake_minor,
                bet.potential_return_minor - bet.stake_minor,
                +1,
            )
        )
    return bet


def _book_rejection(user: User, bet: Bet, execution: Execution | None) -> ApplicationError:
    """`placing` -> `rejected`, the stake released; the Idempotency-Key is freed for a retry.
    Returns the refusal for the caller to raise."""
    unavailable = execution is None
    if execution is None:
        reason = "The sportsbook could not be reached."
    else:
        reason = execution.reason or "The sportsbook rejected the bet."
    with transaction.atomic():
        locked = Bet.objects.select_for_update().filter(pk=bet.pk, status=Bet.Status.PLACING).first()
        if locked is not None:
            wallet_release(
                user=user, amount_minor=bet.stake_minor, currency=bet.currency, bet_id=bet.pk, created_by=user
            )
            Bet.objects.filter(pk=bet.pk).update(
                status=Bet.Status.REJECTED,
                idempotency_key="",
                settlement_note=reason[:300],
                updated_at=timezone.now(),
            )
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
    region: str = "",
) -> Bet:
    """Place a straight bet (one leg) or a parlay (2 to BETTING_MAX_LEGS legs) at one book.

    Guarantees: the stake is held before the venue is asked and released if the venue does
    not fill; `bet.placed` is published only for a filled bet; the user's limits, balance and
    self-exclusion hold under concurrent placements (checked under the wallet and user
    locks, in the transaction that holds the stake); no lock is held while the venue works.
    Call it outside a transaction, or the locks are held across the venue call.
    """
    _check_bettor(user, stake_minor=stake_minor, currency=currency, region=region)
    slip = price_slip(legs=legs, policy=accept_price_change)
    check_house_caps(
        price=slip.price, potential_return_minor=grading.potential_return_minor(stake_minor, slip.price)
    )
    edge = _edge_snapshot(edge_id)
    bet, bet_legs = _reserve(
        user=user,
        slip=slip,
        stake_minor=stake_minor,
        currency=currency,
        edge_id=edge_id,
        edge=edge,
        idempotency_key=idempotency_key,
    )
    execution = _execute(bet, slip)
    if execution is None or not execution.is_accepted:
        raise _book_rejection(user, bet, execution)
    return _book_fill(bet, bet_legs, execution)
