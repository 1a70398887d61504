"""Cancelling a pending bet: by the bettor within a short grace period after placement
(setting BETTING_CANCEL_GRACE_SECONDS) if the venue cancels the ticket, or at any time
before the start when the venue reports the ticket void on its side.

Like placement, the venue is asked with no row locked: check, call, then book the refund in
one short transaction that re-checks the bet under its lock (the wallet's one refund per bet
backs it up), so a slow venue holds nothing and a failing one changes nothing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from betthat.core.errors import ApplicationError, NotFound
from betthat.core.outbox import publish
from betthat.users.models import User
from betting import exposure
from betting.models import Bet, BetLeg
from betting.services.records import bet_event_payload
from betting.venues import venue
from edges.models import Event
from wallet.services import wallet_release

logger = logging.getLogger(__name__)


def _not_cancellable(message: str, **details: object) -> ApplicationError:
    return ApplicationError(message, code="not_cancellable", status=409, details=dict(details))


def _check_cancellable(bet: Bet, legs: list[BetLeg], now: datetime) -> None:
    if bet.status != Bet.Status.PENDING:
        raise _not_cancellable("Only a pending bet can be cancelled.", status=bet.status)
    if any(leg.event.status != Event.Status.SCHEDULED or leg.event.commence_time <= now for leg in legs):
        raise _not_cancellable("The event has started: the bet stands.")


def _pending_bet(user: User, bet_id: int, now: datetime) -> tuple[Bet, list[BetLeg]]:
    bet = Bet.objects.filter(pk=bet_id, user_id=user.pk).first()
    if bet is None:
        raise NotFound("No such bet.")
    legs = list(bet.legs.select_related("event"))
    _check_cancellable(bet, legs, now)
    return bet, legs


def _venue_agrees(bet: Bet, now: datetime) -> None:
    """Within the grace period the venue must cancel the ticket; after it, only a ticket the
    venue itself reports void is refunded. Raises when the bet stands."""
    grace = timedelta(seconds=settings.BETTING_CANCEL_GRACE_SECONDS)
    connector = venue()
    try:
        if now - bet.placed_at <= grace:
            confirmed = connector.can_cancel(
                sportsbook=bet.sportsbook_id, external_id=bet.external_id
            ) and connector.cancel(sportsbook=bet.sportsbook_id, external_id=bet.external_id)
            if not confirmed:
                raise _not_cancellable(f"{bet.sportsbook_id} does not allow this bet to be cancelled.")
            return
        if not connector.is_void(sportsbook=bet.sportsbook_id, external_id=bet.external_id):
            raise _not_cancellable(
                f"A bet can be cancelled within {settings.BETTING_CANCEL_GRACE_SECONDS} seconds of "
                "placing it; this one stands.",
                grace_seconds=settings.BETTING_CANCEL_GRACE_SECONDS,
            )
    except ApplicationError:
        raise
    except Exception as error:
        logger.warning("venue %s failed to cancel bet %s: %r", bet.sportsbook_id, bet.pk, error)
        raise ApplicationError(
            f"{bet.sportsbook_id} could not be reached; the bet stands. Try again.",
            code="venue_unavailable",
            status=503,
            details={"sportsbook": bet.sportsbook_id},
        ) from error


def _book_cancellation(user: User, bet_id: int, now: datetime) -> Bet:
    with transaction.atomic():
        bet = Bet.objects.select_for_update().filter(pk=bet_id, user_id=user.pk).first()
        if bet is None:
            raise NotFound("No such bet.")
        if bet.status != Bet.Status.PENDING:
            logger.warning("bet %s became %s while its venue cancelled it", bet.pk, bet.status)
            raise _not_cancellable("Only a pending bet can be cancelled.", status=bet.status)
        legs = list(bet.legs.all())
        wallet_release(
            user=user, amount_minor=bet.stake_minor, currency=bet.currency, bet_id=bet.pk, created_by=user
        )
        bet.status = Bet.Status.CANCELLED
        bet.cancelled_at = now
        bet.actual_return_minor = bet.stake_minor
        bet.net_profit_minor = 0
        bet.settlement_note = "Cancelled by the bettor."
        bet.save(
            update_fields=[
                "status",
                "cancelled_at",
                "actual_return_minor",
                "net_profit_minor",
                "settlement_note",
                "updated_at",
            ]
        )
        publish("bet.cancelled", bet_event_payload(bet))
        exposure.exposure_add_on_commit(
            exposure.deltas_for(
                [(leg.event_id, leg.market_id) for leg in legs],
                bet.stake_minor,
                bet.potential_return_minor - bet.stake_minor,
                -1,
            )
        )
    return bet


def bet_cancel(*, user: User, bet_id: int, now: datetime | None = None) -> Bet:
    """Cancel the user's pending bet before its events start, within the grace period or
    when the venue voided it; the stake is released (BET_REFUND) exactly once."""
    now = now or timezone.now()
    bet, _legs = _pending_bet(user, bet_id, now)
    _venue_agrees(bet, now)
    return _book_cancellation(user, bet.pk, now)
