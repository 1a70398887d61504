"""Every row lock the wallet takes, in one place and in one order.

The order is: user accounts before system accounts, and by primary key within each group.
`lock_user_accounts` (the betting app calls it first to serialise its limit checks with the
hold) takes a prefix of that order, and `wallet.ledger.book` locks the rest in the same
order inside its single UPDATE, so no two transactions can wait on each other in a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection

from wallet.models import Account, Payment

if TYPE_CHECKING:
    pass

USER_KINDS = (Account.Kind.CASH.value, Account.Kind.HOLDS.value)
SYSTEM_KINDS = (
    Account.Kind.PSP_CLEARING.value,
    Account.Kind.HOUSE.value,
    Account.Kind.FEES.value,
    Account.Kind.RECEIVABLE.value,
)


@dataclass(frozen=True)
class UserAccounts:
    cash: Account
    holds: Account


def ensure_accounts(*, user_id: int | None, currency: str) -> None:
    """Create the user's cash and holds accounts and the system accounts of `currency` if
    missing. Race-free: concurrent callers meet on the unique indexes (ON CONFLICT)."""
    with connection.cursor() as cursor:
        if user_id is not None:
            cursor.execute(
                """
                INSERT INTO wallet_account (user_id, kind, currency, balance_minor, status, created_at, updated_at)
                SELECT %s, k, %s, 0, 'active', now(), now() FROM unnest(%s::text[]) AS k
                ON CONFLICT (user_id, kind, currency) WHERE user_id IS NOT NULL DO NOTHING
                """,
                [user_id, currency, list(USER_KINDS)],
            )
        cursor.execute(
            """
            INSERT INTO wallet_account (user_id, kind, currency, balance_minor, status, created_at, updated_at)
            SELECT NULL, k, %s, 0, 'active', now(), now() FROM unnest(%s::text[]) AS k
            ON CONFLICT (kind, currency) WHERE user_id IS NULL DO NOTHING
            """,
            [currency, list(SYSTEM_KINDS)],
        )


def lock_user_accounts(*, user_id: int, currency: str) -> UserAccounts:
    """Lock the user's cash and holds accounts of `currency` (created if missing) in pk order.

    Call it first inside your `transaction.atomic()` block: until commit, no other
    transaction can move this user's money in this currency.
    """
    for _attempt in range(2):
        rows = list(
            Account.objects.select_for_update()
            .filter(user_id=user_id, currency=currency, kind__in=USER_KINDS)
            .order_by("pk")
        )
        if len(rows) == len(USER_KINDS):
            by_kind = {row.kind: row for row in rows}
            return UserAccounts(cash=by_kind[Account.Kind.CASH], holds=by_kind[Account.Kind.HOLDS])
        ensure_accounts(user_id=user_id, currency=currency)
    raise RuntimeError(f"could not create the wallet accounts of user {user_id}")  # pragma: no cover


def lock_payment(*, payment_id: int) -> Payment | None:
    """Lock one payment row (webhooks for the same payment are applied one at a time)."""
    return Payment.objects.select_for_update().filter(pk=payment_id).first()
