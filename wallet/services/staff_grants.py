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

A grant that waits is a request for a second staff member (`wallet.Adjustment`,
`betting.ManualSettlement`); `staff_grant_request_lock` and `staff_grant_request_decide` are
the one way both are taken up and decided.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from betthat.core.errors import Conflict, NotFound, PermissionDenied
from betthat.core.money import convert_minor
from wallet.models import StaffGrant

if TYPE_CHECKING:
    from django.db.models import Manager
    from django.db.models.options import Options

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
    be booked at once. Call in the transaction that books it: it first takes
    `staff_grants_lock`, held until that transaction ends."""
    staff_grants_lock(staff_id=staff.pk, user_id=user.pk)
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


class StaffGrantRequest(Protocol):
    """A grant waiting for a second staff member: its status ("pending" until decided), who
    asked, and who decided when."""

    _default_manager: ClassVar[Manager[Any]]
    _meta: ClassVar[Options[Any]]
    pk: Any
    status: str
    requested_by_id: int
    decided_by: User | None
    decided_at: datetime | None

    def save(self, *, update_fields: Iterable[str] | None = ...) -> None: ...


Request = TypeVar("Request", bound=StaffGrantRequest)


def staff_grant_request_lock(
    model: type[Request], pk: int, *, staff: User, check: Callable[[Request], object] | None = None
) -> Request:
    """The request `pk`, locked for `staff` to decide on (in their transaction): 404 when
    there is none, then the caller's `check` of `staff` against it (permission, own account),
    409 `conflict` once it is decided, 403 `second_approver_required` for its requester."""
    noun = str(model._meta.verbose_name)
    request: Request | None = model._default_manager.select_for_update().filter(pk=pk).first()
    if request is None:
        raise NotFound(f"No such {noun}.", details={f"{noun.replace(' ', '_')}_id": pk})
    if check is not None:
        check(request)
    if request.status != "pending":
        raise Conflict(f"This {noun} is already {request.status}.", details={"status": request.status})
    if staff.pk == request.requested_by_id:
        raise PermissionDenied(
            f"A second, different staff member must decide on this {noun}.", code="second_approver_required"
        )
    return request


def staff_grant_request_decide(
    request: StaffGrantRequest, *, staff: User, status: str, also_saved: Iterable[str] = ()
) -> None:
    """Record `staff`'s decision on a locked request (with the other fields the caller set)."""
    request.status = status
    request.decided_by = staff
    request.decided_at = timezone.now()
    request.save(update_fields=[*also_saved, "status", "decided_by", "decided_at"])
