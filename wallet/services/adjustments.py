"""Staff adjustments of a user's cash, held to four rules:

1. only staff with the `wallet.adjust_account` permission (is_staff alone is not enough);
2. never one's own account;
3. up to `WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR` (absolute) it is booked at once; above, it
   waits as a pending `Adjustment` until a *different* staff member with the permission
   approves (booked) or rejects it. So does one that would take the requester's, or the
   account's, rolling total of grants without a second approver past the same threshold
   (wallet/services/staff_grants.py; `approval_reason` says which);
4. every request, approval and rejection is written to the admin log (`LogEntry` on the
   Adjustment) and to the audit store (stream `wallet-staff`) with who, for whom, why and how
   much. The database backs rules 2 and 3 with CHECK constraints on `wallet_adjustment`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone

from betthat.core.errors import ApplicationError, PermissionDenied
from wallet.models import Adjustment, StaffGrant, Transaction
from wallet.money import format_plain
from wallet.services.common import _check_amount, _check_currency, staff_audit
from wallet.services.house import house_transfer
from wallet.services.staff_grants import (
    staff_grant_approval_reason,
    staff_grant_record,
    staff_grant_request_decide,
    staff_grant_request_lock,
)

if TYPE_CHECKING:
    from betthat.users.models import User

PERMISSION = "wallet.adjust_account"


def _check_adjuster(staff: User | None, *, owner_id: int) -> User:
    if staff is None or not staff.is_active or not staff.is_staff or not staff.has_perm(PERMISSION):
        raise PermissionDenied(
            "Adjusting a balance needs the 'adjust account' permission.", details={"permission": PERMISSION}
        )
    if staff.pk == owner_id:
        raise PermissionDenied("Nobody may adjust their own account.", code="own_account")
    return staff


def _log(*, staff: User, adjustment: Adjustment, flag: int, action: str) -> None:
    """The admin log entry and the audit record of one step, with who, why and how much."""
    message = (
        f"{action}: {format_plain(adjustment.amount_minor)} {adjustment.currency} for user "
        f"{adjustment.user_id} ({adjustment.reason})"
    )
    if adjustment.approval_reason and action == "requested":
        message += f"; second approver needed: {adjustment.approval_reason.replace('_', ' ')}"
    LogEntry.objects.log_actions(
        user_id=staff.pk,
        queryset=Adjustment.objects.filter(pk=adjustment.pk),
        action_flag=flag,
        change_message=message[:2000],
        single_object=True,
    )
    record: dict[str, Any] = {
        "action": f"adjustment.{action}",
        "adjustment_id": adjustment.pk,
        "staff_id": staff.pk,
        "staff_email": staff.email,
        "user_id": adjustment.user_id,
        "amount": format_plain(adjustment.amount_minor),
        "currency": adjustment.currency,
        "reason": adjustment.reason,
        "status": adjustment.status,
        "requested_by_id": adjustment.requested_by_id,
        "transaction_id": adjustment.transaction_id,
        "approval_reason": adjustment.approval_reason,
    }
    staff_audit(record)


def _book(adjustment: Adjustment, *, booked_by: User) -> None:
    tx = house_transfer(
        user=adjustment.user,
        type=Transaction.Type.ADJUSTMENT,
        amount_minor=adjustment.amount_minor,
        currency=adjustment.currency,
        reason=adjustment.reason,
        created_by=booked_by,
        ref_type="adjustment",
        ref_id=str(adjustment.pk),
    )
    adjustment.transaction = tx
    adjustment.status = Adjustment.Status.BOOKED


def wallet_adjust(
    *, user: User, amount_minor: int, currency: str = "USD", reason: str, staff: User
) -> Adjustment:
    """Request a signed adjustment of `user`'s cash against the house. Booked at once up to
    the approval threshold (the Adjustment's `transaction`); above it, left pending for a
    second staff member (`adjustment_approve`). 403 `permission_denied` without the
    permission, 403 `own_account` for one's own account, 400 without a reason, 409
    `insufficient_funds` for a debit the user cannot cover (nothing is recorded then)."""
    _check_adjuster(staff, owner_id=user.pk)
    if not reason or not reason.strip():
        raise ApplicationError(
            "A reason is required.", code="validation_error", details={"reason": ["This field is required."]}
        )
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool):
        raise ApplicationError("The amount must be a whole number of minor units.", code="invalid_amount")
    _check_amount(abs(amount_minor))
    _check_currency(currency)
    with transaction.atomic():
        approval_reason = staff_grant_approval_reason(
            staff=staff, user=user, amount_minor=abs(amount_minor), currency=currency
        )
        adjustment = Adjustment.objects.create(
            user=user,
            currency=currency,
            amount_minor=amount_minor,
            reason=reason.strip(),
            requested_by=staff,
            approval_reason=approval_reason or "",
        )
        if approval_reason is None:
            _book(adjustment, booked_by=staff)
            adjustment.decided_at = timezone.now()
            adjustment.save(update_fields=["transaction", "status", "decided_at"])
            staff_grant_record(
                staff=staff,
                user=user,
                amount_minor=abs(amount_minor),
                currency=currency,
                kind=StaffGrant.Kind.ADJUSTMENT,
                reference=f"adjustment:{adjustment.pk}",
            )
            _log(staff=staff, adjustment=adjustment, flag=ADDITION, action="booked")
        else:
            _log(staff=staff, adjustment=adjustment, flag=ADDITION, action="requested")
    return adjustment


def _pending(*, adjustment_id: int, staff: User) -> Adjustment:
    return staff_grant_request_lock(
        Adjustment,
        adjustment_id,
        staff=staff,
        check=lambda adjustment: _check_adjuster(staff, owner_id=adjustment.user_id),
    )


def adjustment_approve(*, adjustment_id: int, staff: User) -> Adjustment:
    """Book a pending adjustment as its second approver (a different staff member with the
    permission, not the account's owner). 409 `conflict` if it was already decided."""
    with transaction.atomic():
        adjustment = _pending(adjustment_id=adjustment_id, staff=staff)
        _book(adjustment, booked_by=staff)
        staff_grant_request_decide(
            adjustment, staff=staff, status=Adjustment.Status.BOOKED, also_saved=["transaction"]
        )
        _log(staff=staff, adjustment=adjustment, flag=CHANGE, action="approved")
    return adjustment


def adjustment_reject(*, adjustment_id: int, staff: User) -> Adjustment:
    """Refuse a pending adjustment (no money moves); the same four-eyes rule applies."""
    with transaction.atomic():
        adjustment = _pending(adjustment_id=adjustment_id, staff=staff)
        staff_grant_request_decide(adjustment, staff=staff, status=Adjustment.Status.REJECTED)
        _log(staff=staff, adjustment=adjustment, flag=CHANGE, action="rejected")
    return adjustment
