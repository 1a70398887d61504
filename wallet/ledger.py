"""Booking: the one function that moves money between accounts.

`book` changes the cached balances and writes the entries in the caller's database
transaction, with as few round trips as we could manage (the hot path of every bet):

1. one UPDATE ... RETURNING that locks the involved accounts in the global order (user
   accounts, then system accounts, each by pk; see wallet.locks), checks that no user
   account would go negative, and applies every delta, all or nothing;
2. one INSERT of the journal header (unless an existing pending header is being completed);
3. one multi-row INSERT of the entries.

The database backs every rule up: the balance CHECK, the deferred balanced-transaction
trigger and the append-only trigger (migration 0002).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from betthat.core.errors import ApplicationError
from betthat.core.serializers import minor_to_decimal
from wallet.locks import SYSTEM_KINDS, USER_KINDS, ensure_accounts
from wallet.models import Account, LedgerEntry, Transaction

# Far above any real deposit, far below 2**63: sums of many amounts can never overflow.
MAX_AMOUNT_MINOR = 10_000_000_000  # 100,000,000.00


@dataclass(frozen=True)
class Leg:
    """One line to book: `amount_minor` (signed) on the account of `kind`."""

    kind: str
    amount_minor: int
    entry_type: str


class InsufficientFunds(ApplicationError):
    code = "insufficient_funds"
    status = 409


_BOOK_SQL = """
WITH legs(kind, delta) AS (SELECT * FROM unnest(%(kinds)s::text[], %(deltas)s::bigint[])),
locked AS MATERIALIZED (
    SELECT a.id, a.kind, a.balance_minor
      FROM wallet_account a
     WHERE a.currency = %(currency)s
       AND ((a.user_id = %(user_id)s AND a.kind = ANY(%(user_kinds)s))
            OR (a.user_id IS NULL AND a.kind = ANY(%(system_kinds)s)))
     ORDER BY (a.user_id IS NULL), a.id
       FOR UPDATE
),
verdict AS (
    SELECT count(*) = %(leg_count)s
           AND coalesce(bool_and(k.kind <> ALL(%(user_kinds)s) OR k.balance_minor + l.delta >= 0), false)
           AS ok
      FROM locked k JOIN legs l ON l.kind = k.kind
)
UPDATE wallet_account a
   SET balance_minor = a.balance_minor + l.delta, updated_at = %(now)s
  FROM locked k JOIN legs l ON l.kind = k.kind, verdict v
 WHERE a.id = k.id AND v.ok
RETURNING a.id, a.kind
"""


def _net_by_kind(legs: list[Leg]) -> dict[str, int]:
    net: dict[str, int] = defaultdict(int)
    for leg in legs:
        net[leg.kind] += leg.amount_minor
    return dict(net)


def _apply_balances(*, user_id: int | None, currency: str, net: dict[str, int], now) -> dict[str, int]:
    """Apply the net deltas; return {kind: account id}. Raises InsufficientFunds."""
    kinds = list(net)
    user_kinds = [k for k in kinds if k in USER_KINDS]
    system_kinds = [k for k in kinds if k in SYSTEM_KINDS]
    params = {
        "kinds": kinds,
        "deltas": [net[k] for k in kinds],
        "currency": currency,
        "user_id": user_id,
        "user_kinds": user_kinds,
        "system_kinds": system_kinds,
        "leg_count": len(kinds),
        "now": now,
    }
    with connection.cursor() as cursor:
        for _attempt in range(2):
            cursor.execute(_BOOK_SQL, params)
            rows = cursor.fetchall()
            if len(rows) == len(kinds):
                return {kind: account_id for account_id, kind in rows}
            # Nothing was changed (the UPDATE is all or nothing). Missing accounts, or short?
            cursor.execute(
                """
                SELECT kind, balance_minor FROM wallet_account
                 WHERE currency = %s AND ((user_id = %s AND kind = ANY(%s)) OR (user_id IS NULL AND kind = ANY(%s)))
                """,
                [currency, user_id, user_kinds, system_kinds],
            )
            balances = dict(cursor.fetchall())
            if len(balances) < len(kinds):
                ensure_accounts(user_id=user_id, currency=currency)
                continue
            short = next(k for k in user_kinds if balances[k] + net[k] < 0)
            raise InsufficientFunds(
                "Not enough funds for this operation.",
                details={
                    "account": short,
                    "available": minor_to_decimal(balances[short]),
                    "required": minor_to_decimal(-net[short]),
                    "currency": currency,
                },
            )
    raise RuntimeError("wallet accounts could not be created")  # pragma: no cover


def book(
    *,
    user_id: int | None,
    currency: str,
    legs: list[Leg],
    transaction: Transaction | None = None,
    ref_type: str = "",
    ref_id: str = "",
    **header,
) -> Transaction:
    """Book `legs` (they must sum to zero) in the current database transaction.

    With `transaction`, the entries are added to that existing (pending) header; otherwise a
    new header is created from `header` (type, status, amount_minor, bet_id, ...).
    """
    legs = [leg for leg in legs if leg.amount_minor != 0]
    if len(legs) < 2 or sum(leg.amount_minor for leg in legs) != 0:
        raise ValueError(f"unbalanced legs: {legs}")
    now = timezone.now()
    account_ids = _apply_balances(user_id=user_id, currency=currency, net=_net_by_kind(legs), now=now)
    if transaction is None:
        header.setdefault("status", Transaction.Status.COMPLETED)
        if header["status"] == Transaction.Status.COMPLETED:
            header.setdefault("completed_at", now)
        transaction = Transaction.objects.create(
            user_id=user_id, currency=currency, created_at=now, updated_at=now, **header
        )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                transaction_id=transaction.pk,
                account_id=account_ids[leg.kind],
                amount_minor=leg.amount_minor,
                entry_type=leg.entry_type,
                ref_type=ref_type,
                ref_id=ref_id,
                created_at=now,
            )
            for leg in legs
        ]
    )
    return transaction


def system_account(*, kind: str, currency: str) -> Account:
    account = Account.objects.filter(user__isnull=True, kind=kind, currency=currency).first()
    if account is None:
        ensure_accounts(user_id=None, currency=currency)
        account = Account.objects.get(user__isnull=True, kind=kind, currency=currency)
    return account
