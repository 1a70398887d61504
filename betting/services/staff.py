"""Staff actions on bets: settle or void by hand, rebuild the exposure aggregates.

Each needs its own permission (`betting.settle_bet`, `betting.void_bet`,
`betting.rebuild_exposure`: "change bet" is not enough), checked here so every way in is
held to it; staff never settle or void their own bets; every action goes to the audit
store's `staff` stream (who, what, why, how much) after commit.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from betthat.core.audit import audit_append
from betthat.core.errors import ApplicationError, NotFound
from betthat.users.models import User
from betting import exposure, grading
from betting.models import Bet
from betting.services.settlement import after_settlement, apply_settlement, move_money

logger = logging.getLogger(__name__)


def _require_permission(staff: User, permission: str) -> None:
    if not staff.has_perm(f"betting.{permission}"):
        raise ApplicationError(
            "You do not have permission to do this.",
            code="permission_denied",
            status=403,
            details={"permission": f"betting.{permission}"},
        )


def _staff_bet(
    bet_id: int, *, staff: User, permission: str, statuses: tuple[str, ...] = (Bet.Status.PENDING,)
) -> Bet:
    """The bet, locked, in one of `statuses`, if `staff` holds `permission` and it is not
    their own."""
    _require_permission(staff, permission)
    bet = Bet.objects.select_for_update(of=("self",)).select_related("user").filter(pk=bet_id).first()
    if bet is None:
        raise NotFound("No such bet.")
    if bet.user_id == staff.pk:
        raise ApplicationError(
            "Staff cannot settle or void their own bets: ask a colleague.", code="own_bet", status=403
        )
    if bet.status not in statuses:
        raise ApplicationError(
            "Only a pending bet can be settled or voided.",
            code="conflict",
            status=409,
            details={"status": bet.status},
        )
    return bet


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Give a reason.", code="validation_error", details={"reason": "required"})
    return reason


def audit_staff_action(*, action: str, staff: User, **record: Any) -> None:
    """A staff action on betting, to the audit store's `staff` stream after commit."""
    line = {
        "action": action,
        "staff_id": staff.pk,
        "staff_email": staff.email,
        "at": timezone.now(),
        **record,
    }

    def append() -> None:
        try:
            audit_append("staff", line)
        except Exception:  # the admin log and the database hold the truth; the store is a copy
            logger.exception("staff audit append failed: %s", action)

    transaction.on_commit(append)


@transaction.atomic
def bet_settle(*, bet_id: int, result: str, staff: User, reason: str) -> Bet:
    """Staff settle a pending bet by hand with a result for the whole bet and a reason
    (permission `betting.settle_bet`; never one's own bet; audited)."""
    reason = _require_reason(reason)
    try:
        graded = grading.Result(result)
    except ValueError as error:
        raise ApplicationError(
            "Unknown result.", code="validation_error", details={"result": result}
        ) from error
    bet = _staff_bet(bet_id, staff=staff, permission="settle_bet")
    now = timezone.now()
    legs = list(bet.legs.all())
    factor = grading.leg_factor(graded, bet.odds_decimal)
    settlement = grading.Settlement(graded, grading.amount_minor(bet.stake_minor, factor), factor)
    apply_settlement(bet, settlement, now=now, note=f"Settled by {staff.email}: {reason}")
    move_money([(bet, settlement)], actor=staff)
    bet.save()
    after_settlement([bet], {bet.pk: legs}, now=now, by=staff.email)
    audit_staff_action(
        action="bet.settle",
        staff=staff,
        bet_id=bet.pk,
        result=bet.result,
        reason=reason,
        payout_minor=bet.actual_return_minor,
        currency=bet.currency,
    )
    return bet


@transaction.atomic
def bet_void(*, bet_id: int, staff: User, reason: str) -> Bet:
    """Staff void a pending bet: the stake goes back (BET_REFUND). Permission
    `betting.void_bet`; never one's own bet; audited."""
    reason = _require_reason(reason)
    # A bet left `placing` (its process died while the venue worked) can be voided once
    # staff have checked the venue: the held stake goes back.
    bet = _staff_bet(
        bet_id, staff=staff, permission="void_bet", statuses=(Bet.Status.PENDING, Bet.Status.PLACING)
    )
    now = timezone.now()
    legs = list(bet.legs.all())
    settlement = grading.Settlement(grading.Result.VOID, bet.stake_minor, grading.ONE)
    apply_settlement(bet, settlement, now=now, note=f"Voided by {staff.email}: {reason}")
    move_money([(bet, settlement)], actor=staff)
    bet.save()
    after_settlement([bet], {bet.pk: legs}, now=now, by=staff.email)
    audit_staff_action(
        action="bet.void",
        staff=staff,
        bet_id=bet.pk,
        reason=reason,
        payout_minor=bet.actual_return_minor,
        currency=bet.currency,
    )
    return bet


def exposure_rebuild_by_staff(*, staff: User) -> int:
    """Rebuild the exposure aggregates from the database (permission
    `betting.rebuild_exposure`; audited). Returns the events with open bets."""
    _require_permission(staff, "rebuild_exposure")
    count = exposure.exposure_rebuild()
    audit_staff_action(action="exposure.rebuild", staff=staff, events=count)
    return count
