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
from wallet.models import Account, Transaction

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


HEADER_FIELDS = (
    "type",
    "status",
    "amount_minor",
    "fee_minor",
    "bet_id",
    "payment_id",
    "sportsbook_id",
    "processing_attempts",
    "last_error",
    "external_reference",
    "idempotency_key",
    "reason",
    "created_by_id",
    "completed_at",
)
HEADER_DEFAULTS = {
    "fee_minor": 0,
    "bet_id": None,
    "payment_id": None,
    "sportsbook_id": "",
    "processing_attempts": 0,
    "last_error": "",
    "external_reference": "",
    "idempotency_key": "",
    "reason": "",
    "created_by_id": None,
    "completed_at": None,
}

# One statement, one round trip: lock (in the global order), check, move the balances, write
# the header (unless completing an existing one) and the entries. All or nothing: when a user
# account would go negative or an account is missing, nothing is written and no id returned.
_BOOK_SQL = f"""
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
),
moved AS (
    UPDATE wallet_account a
       SET balance_minor = a.balance_minor + l.delta, updated_at = %(now)s
      FROM locked k JOIN legs l ON l.kind = k.kind, verdict v
     WHERE a.id = k.id AND v.ok
    RETURNING a.id, a.kind
),
header AS (
    INSERT INTO wallet_transaction (user_id, currency, created_at, updated_at, {", ".join(HEADER_FIELDS)})
    SELECT %(user_id)s, %(currency)s, %(now)s, %(now)s, {", ".join(f"%({name})s" for name in HEADER_FIELDS)}
     WHERE %(existing_id)s::bigint IS NULL AND (SELECT count(*) FROM moved) = %(leg_count)s
    RETURNING id
),
target AS (
    SELECT id FROM header
    UNION ALL
    SELECT %(existing_id)s::bigint WHERE %(existing_id)s::bigint IS NOT NULL
       AND (SELECT count(*) FROM moved) = %(leg_count)s
),
lines AS (
    INSERT INTO wallet_ledgerentry (transaction_id, account_id, amount_minor, entry_type, ref_type, ref_id, created_at)
    SELECT t.id, m.id, e.amount, e.entry_type, %(ref_type)s, %(ref_id)s, %(now)s
      FROM target t,
           unnest(%(entry_kinds)s::text[], %(entry_amounts)s::bigint[], %(entry_types)s::text[])
               WITH ORDINALITY AS e(kind, amount, entry_type, position)
      JOIN moved m ON m.kind = e.kind
     ORDER BY e.position
    RETURNING id
)
SELECT (SELECT id FROM target), (SELECT count(*) FROM lines)
"""


def _net_by_kind(legs: list[Leg]) -> dict[str, int]:
    net: dict[str, int] = defaultdict(int)
    for leg in legs:
        net[leg.kind] += leg.amount_minor
    return dict(net)


def _refusal(*, cursor, user_id: int | None, currency: str, net: dict[str, int]) -> bool:
    """After a refused booking: True if accounts were missing (now created: retry), else
    raise InsufficientFunds naming the short account."""
    user_kinds = [k for k in net if k in USER_KINDS]
    system_kinds = [k for k in net if k in SYSTEM_KINDS]
    cursor.execute(
        """
        SELECT kind, balance_minor FROM wallet_account
         WHERE currency = %s AND ((user_id = %s AND kind = ANY(%s)) OR (user_id IS NULL AND kind = ANY(%s)))
        """,
        [currency, user_id, user_kinds, system_kinds],
    )
    balances = dict(cursor.fetchall())
    if len(balances) < len(net):
        ensure_accounts(user_id=user_id, currency=currency)
        return True
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
    new header is created from `header` (type, status, amount_minor, bet_id, ...). Raises
    InsufficientFunds (409) and changes nothing if a user account would go negative.
    """
    legs = [leg for leg in legs if leg.amount_minor != 0]
    if len(legs) < 2 or sum(leg.amount_minor for leg in legs) != 0:
        raise ValueError(f"unbalanced legs: {legs}")
    now = timezone.now()
    net = _net_by_kind(legs)
    values = {**HEADER_DEFAULTS, "status": Transaction.Status.COMPLETED}
    for name, value in header.items():
        key = f"{name}_id" if name in ("created_by", "payment") else name
        values[key] = getattr(value, "pk", value) if name in ("created_by", "payment") else value
    if values["status"] == Transaction.Status.COMPLETED and values["completed_at"] is None:
        values["completed_at"] = now
    unknown = set(values) - set(HEADER_FIELDS)
    if unknown:
        raise TypeError(f"unknown transaction fields: {sorted(unknown)}")
    kinds = list(net)
    params = {
        "type": None,
        "amount_minor": 0,
        **values,
        "kinds": kinds,
        "deltas": [net[k] for k in kinds],
        "currency": currency,
        "user_id": user_id,
        "user_kinds": [k for k in kinds if k in USER_KINDS],
        "system_kinds": [k for k in kinds if k in SYSTEM_KINDS],
        "leg_count": len(kinds),
        "now": now,
        "existing_id": transaction.pk if transaction is not None else None,
        "ref_type": ref_type,
        "ref_id": ref_id,
        "entry_kinds": [leg.kind for leg in legs],
        "entry_amounts": [leg.amount_minor for leg in legs],
        "entry_types": [str(leg.entry_type) for leg in legs],
    }
    with connection.cursor() as cursor:
        for _attempt in range(2):
            cursor.execute(_BOOK_SQL, params)
            transaction_id, lines = cursor.fetchone()
            if transaction_id is not None:
                break
            _refusal(cursor=cursor, user_id=user_id, currency=currency, net=net)
        else:  # pragma: no cover - ensure_accounts makes the second attempt find them
            raise RuntimeError("wallet accounts could not be created")
    if lines != len(legs):  # pragma: no cover - the statement writes all lines or none
        raise RuntimeError(f"booked {lines} of {len(legs)} entries")
    if transaction is not None:
        return transaction
    booked = Transaction(
        id=transaction_id, user_id=user_id, currency=currency, created_at=now, updated_at=now, **values
    )
    booked._state.adding = False
    booked._state.db = connection.alias
    return booked


def system_account(*, kind: str, currency: str) -> Account:
    account = Account.objects.filter(user__isnull=True, kind=kind, currency=currency).first()
    if account is None:
        ensure_accounts(user_id=None, currency=currency)
        account = Account.objects.get(user__isnull=True, kind=kind, currency=currency)
    return account
