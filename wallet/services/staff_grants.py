"""Rolling totals of what staff grant without a second approver (issue 18 item 8).

A staff adjustment up to `WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR` is booked at once, and so
was a manual "win" settlement of any size. Split into pieces under the threshold, or paid to an
accomplice's bet, money left with one pair of eyes. Now every such grant is a `StaffGrant` row,
and a new one needs the second approver when:

- `amount`: it is above the threshold on its own;
- `staff_total`: with what the same staff member granted (to anyone) in the last
  `WALLET_STAFF_GRANT_WINDOW_HOURS`, it would pass the threshold;
- `account_total`: with what any staff granted to the same account in that window, it would.

Totals count every currency at the fixed rates limits use (`betthat.core.money.convert_minor`,
rounded up), in the currency of the new grant. Two grants at once by the same staff member or
to the same account are serialised by advisory locks (staff first, then account), so both
cannot slip under the threshold. Callers: `wallet.services.adjustments.wallet_adjust` and
`betting.services.staff.bet_settle`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from betthat.core.money import convert_minor
from wallet.models import StaffGrant

if TYPE_CHECKING:
    from betthat.users.models import User


class ApprovalReason(StrEnum):
    AMOUNT = "amount"
    STAFF_TOTAL = "staff_total"
    ACCOUNT_TOTAL = "account_total"


def staff_grants_lock(*, staff_id: int, user_id: int) -> None:
    """Serialise grants by this staff member and to this account until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0)), pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"wallet-grant-staff:{staff_id}", f"wallet-grant-account:{user_id}"],
        )


def _total(rows: dict[str, int], currency: str) -> int:
    return sum(convert_minor(amount, paid_in, currency, round_up=True) for paid_in, amount in rows.items())


def staff_grant_totals(
    *, staff_id: int, user_id: int, currency: str, now: datetime | None = None
) -> tuple[int, int]:
    """(the staff member's total, the account's total) granted without a second approver in
    the rolling window, in `currency`."""
    since = (now or timezone.now()) - timedelta(hours=settings.WALLET_STAFF_GRANT_WINDOW_HOURS)
    recent = StaffGrant.objects.filter(created_at__gt=since).order_by()

    def by_currency(**where: int) -> dict[str, int]:
        return {
            cur: int(total)
            for cur, total in recent.filter(**where)
            .values_list("currency")
            .annotate(total=Sum("amount_minor"))
        }

    return _total(by_currency(staff_id=staff_id), currency), _total(by_currency(user_id=user_id), currency)


def staff_grant_approval_reason(
    *, staff: User, user: User, amount_minor: int, currency: str
) -> ApprovalReason | None:
    """Why a grant of `amount_minor` (its size, > 0) needs a second approver, or None if it may
    be booked at once. Call under `staff_grants_lock` in the transaction that books it."""
    threshold = settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR
    if amount_minor > threshold:
        return ApprovalReason.AMOUNT
    staff_total, account_total = staff_grant_totals(staff_id=staff.pk, user_id=user.pk, currency=currency)
    if staff_total + amount_minor > threshold:
        return ApprovalReason.STAFF_TOTAL
    if account_total + amount_minor > threshold:
        return ApprovalReason.ACCOUNT_TOTAL
    return None


def staff_grant_record(
    *, staff: User, user: User, amount_minor: int, currency: str, kind: str, reference: str
) -> StaffGrant:
    """Count a grant booked without a second approver (in the transaction that books it)."""
    return StaffGrant.objects.create(
        staff=staff, user=user, amount_minor=amount_minor, currency=currency, kind=kind, reference=reference
    )
