"""Staff actions on bets: settle or void by hand, rebuild the exposure aggregates.

Each needs its own permission (`betting.settle_bet`, `betting.void_bet`,
`betting.rebuild_exposure`: "change bet" is not enough), checked here so every way in is
held to it; staff never settle or void their own bets; every action goes to the audit
store's `staff` stream (who, what, why, how much) after commit. A manual settlement whose
winnings need a second approver (their size, or a rolling total: wallet.services.staff_grants)
waits as a `ManualSettlement` for a different staff member.
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
from betting.models import Bet, ManualSettlement
from betting.services.settlement import after_settlement, apply_settlement, move_money
from wallet.services import (
    staff_grant_approval_reason,
    staff_grant_record,
    staff_grant_request_decide,
    staff_grant_request_lock,
)

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
    (permission `betting.settle_bet`; never one's own bet; audited).

    Winnings (payout less stake) are a staff grant: above WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR,
    or past the requester's or the account's rolling total of grants without a second approver
    (wallet.services.staff_grant_approval_reason), the bet is not settled: a pending
    `ManualSettlement` waits for a different staff member (`manual_settlement_approve`) and
    the bet is returned still pending. Otherwise it is settled at once and the winnings count
    in those totals."""
    reason = _require_reason(reason)
    graded = _result(result)
    bet = _staff_bet(bet_id, staff=staff, permission="settle_bet")
    settlement = _settlement_of(bet, graded)
    winnings = max(0, settlement.net_profit_minor(bet.stake_minor))
    if winnings > 0:
        approval_reason = staff_grant_approval_reason(
            staff=staff, user=bet.user, amount_minor=winnings, currency=bet.currency
        )
        if approval_reason is not None:
            if ManualSettlement.objects.filter(bet=bet, status=ManualSettlement.Status.PENDING).exists():
                raise ApplicationError(
                    "A settlement of this bet already waits for a second staff member.",
                    code="conflict",
                    status=409,
                )
            request = ManualSettlement.objects.create(
                bet=bet,
                result=graded.value,
                reason=reason,
                winnings_minor=winnings,
                approval_reason=str(approval_reason),
                requested_by=staff,
            )
            audit_staff_action(
                action="bet.settle_requested",
                staff=staff,
                bet_id=bet.pk,
                manual_settlement_id=request.pk,
                result=graded.value,
                reason=reason,
                winnings_minor=winnings,
                currency=bet.currency,
                approval_reason=str(approval_reason),
            )
            return bet
        staff_grant_record(
            staff=staff,
            user=bet.user,
            amount_minor=winnings,
            currency=bet.currency,
            kind="settlement",  # wallet.models.StaffGrant.Kind.SETTLEMENT
            reference=f"bet:{bet.pk}",
        )
    _book_by_hand(bet, settlement, staff=staff, note=f"Settled by {staff.email}: {reason}")
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


def _result(result: str) -> grading.Result:
    try:
        return grading.Result(result)
    except ValueError as error:
        raise ApplicationError(
            "Unknown result.", code="validation_error", details={"result": result}
        ) from error


def _settlement_of(bet: Bet, graded: grading.Result) -> grading.Settlement:
    """What a result for the whole bet pays, at the bet's price."""
    factor = grading.leg_factor(graded, bet.odds_decimal)
    return grading.Settlement(graded, grading.amount_minor(bet.stake_minor, factor), factor)


def _book_by_hand(bet: Bet, settlement: grading.Settlement, *, staff: User, note: str) -> None:
    """Settle or void a locked bet by hand: its result, the money, then what follows a
    settlement (events, notifications, exposure)."""
    now = timezone.now()
    legs = list(bet.legs.all())
    apply_settlement(bet, settlement, now=now, note=note)
    move_money([(bet, settlement)], actor=staff)
    bet.save()
    after_settlement([bet], {bet.pk: legs}, now=now, by=staff.email)


def _pending_manual_settlement(settlement_id: int, *, staff: User) -> ManualSettlement:
    _require_permission(staff, "settle_bet")
    return staff_grant_request_lock(ManualSettlement, settlement_id, staff=staff)


@transaction.atomic
def manual_settlement_approve(*, settlement_id: int, staff: User) -> Bet:
    """Book a pending manual settlement as its second approver (`betting.settle_bet`, not the
    requester, not the bettor). Its winnings do not count in the rolling totals: two people
    saw them. 409 `conflict` if already decided or the bet is no longer pending."""
    request = _pending_manual_settlement(settlement_id, staff=staff)
    bet = _staff_bet(request.bet_id, staff=staff, permission="settle_bet")
    settlement = _settlement_of(bet, _result(request.result))
    _book_by_hand(bet, settlement, staff=staff, note=f"Settled by {staff.email}: {request.reason}")
    staff_grant_request_decide(request, staff=staff, status=ManualSettlement.Status.APPROVED)
    audit_staff_action(
        action="bet.settle_approved",
        staff=staff,
        bet_id=bet.pk,
        manual_settlement_id=request.pk,
        requested_by_id=request.requested_by_id,
        result=bet.result,
        reason=request.reason,
        payout_minor=bet.actual_return_minor,
        currency=bet.currency,
    )
    return bet


@transaction.atomic
def manual_settlement_reject(*, settlement_id: int, staff: User) -> ManualSettlement:
    """Refuse a pending manual settlement (the bet stays pending; no money moves)."""
    request = _pending_manual_settlement(settlement_id, staff=staff)
    staff_grant_request_decide(request, staff=staff, status=ManualSettlement.Status.REJECTED)
    audit_staff_action(
        action="bet.settle_rejected",
        staff=staff,
        bet_id=request.bet_id,
        manual_settlement_id=request.pk,
        requested_by_id=request.requested_by_id,
    )
    return request


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
    settlement = grading.Settlement(grading.Result.VOID, bet.stake_minor, grading.ONE)
    _book_by_hand(bet, settlement, staff=staff, note=f"Voided by {staff.email}: {reason}")
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
