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

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection
from django.utils import timezone

from betthat.core.db import binding_cursor
from betthat.core.errors import ApplicationError, NotFound
from betthat.core.outbox import nudge_relay_on_commit
from betthat.core.serializers import minor_to_decimal
from betthat.users.compliance import account_frozen, is_frozen_refusal
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


def insufficient_funds(
    *, kind: str, available_minor: int, required_minor: int, currency: str
) -> InsufficientFunds:
    """The refusal when the account of `kind` holds less than a booking takes from it."""
    return InsufficientFunds(
        "Not enough funds for this operation.",
        details={
            "account": kind,
            "available": minor_to_decimal(available_minor),
            "required": minor_to_decimal(required_minor),
            "currency": currency,
        },
    )


# The journal header's columns that `book` writes.
_HEADER_COLUMNS = (
    "type status amount_minor fee_minor bet_id payment_id sportsbook_id processing_attempts"
    " last_error external_reference idempotency_key reason created_by_id completed_at"
)
HEADER_FIELDS: tuple[str, ...] = tuple(_HEADER_COLUMNS.split())
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
# the header (unless completing an existing one), the entries and (optionally) the outbox
# event. All or nothing: when a user account would go negative, an account is missing or the
# guard fails (closing a bet's hold: its BET_PLACED must be this user's, in this currency, at
# least this large), nothing is written and no id returned.
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
guard AS (
    SELECT %(guard_bet)s::bigint IS NULL OR EXISTS (
        SELECT 1 FROM wallet_transaction p
         WHERE p.bet_id = %(guard_bet)s::bigint AND p.type = 'BET_PLACED' AND p.user_id = %(user_id)s
           AND p.currency = %(currency)s AND p.amount_minor >= %(guard_amount)s::bigint
    ) AS ok
),
verdict AS (
    SELECT count(*) = %(leg_count)s
           AND coalesce(bool_and(k.kind <> ALL(%(user_kinds)s) OR k.balance_minor + l.delta >= 0), false)
           AND (SELECT ok FROM guard)
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
),
event AS (
    INSERT INTO core_outboxevent (event_id, event_type, payload, created_at, delivered_at, attempts, last_error)
    SELECT %(event_id)s::uuid, %(event_type)s::text,
           %(event_payload)s::jsonb || jsonb_build_object('transaction_id', t.id), %(now)s, NULL, 0, ''
      FROM target t
     WHERE %(event_type)s::text IS NOT NULL
    RETURNING id
)
SELECT (SELECT id FROM target), (SELECT count(*) FROM lines), (SELECT count(*) FROM event)
"""


def _net_by_kind(legs: list[Leg]) -> dict[str, int]:
    net: dict[str, int] = defaultdict(int)
    for leg in legs:
        net[leg.kind] += leg.amount_minor
    return dict(net)


def _refusal(
    *,
    cursor: Any,
    user_id: int | None,
    currency: str,
    net: dict[str, int],
    requires_hold: tuple[int, int] | None = None,
) -> bool:
    """After a refused booking: True if accounts were missing (now created: retry), else
    raise InsufficientFunds naming the short account, or NotFound if the hold required is
    not there."""
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
    short = next((k for k in user_kinds if balances[k] + net[k] < 0), None)
    if short is None and requires_hold is not None:
        raise NotFound("No stake is held for this bet.", details={"bet_id": requires_hold[0]})
    if short is None:  # pragma: no cover - the statement refuses only for these reasons
        raise RuntimeError("booking refused with sufficient funds")
    raise insufficient_funds(
        kind=short, available_minor=balances[short], required_minor=-net[short], currency=currency
    )


def book(
    *,
    user_id: int | None,
    currency: str,
    legs: list[Leg],
    transaction: Transaction | None = None,
    ref_type: str = "",
    ref_id: str = "",
    requires_hold: tuple[int, int] | None = None,
    event: tuple[str, dict[str, Any]] | None = None,
    **header: Any,
) -> Transaction:
    """Book `legs` (they must sum to zero) in the current database transaction (or, in
    autocommit, as one statement that is its own transaction).

    With `transaction`, the entries are added to that existing (pending) header; otherwise a
    new header is created from `header` (type, status, amount_minor, bet_id, ...). Raises
    InsufficientFunds (409) and changes nothing if a user account would go negative.

    `requires_hold=(bet_id, amount_minor)`: book only if that bet's BET_PLACED is this user's,
    in this currency, of at least `amount_minor` (else NotFound, nothing written).
    `event=(event_type, payload)`: write the outbox event in the same statement, with the new
    header's id added as `transaction_id`, and nudge the relay on commit (as `publish` does).
    """
    legs = [leg for leg in legs if leg.amount_minor != 0]
    if len(legs) < 2 or sum(leg.amount_minor for leg in legs) != 0:
        raise ValueError(f"unbalanced legs: {legs}")
    now = timezone.now()
    net = _net_by_kind(legs)
    values: dict[str, Any] = {**HEADER_DEFAULTS, "status": Transaction.Status.COMPLETED}
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
        "guard_bet": requires_hold[0] if requires_hold else None,
        "guard_amount": requires_hold[1] if requires_hold else None,
        "event_id": uuid.uuid4() if event else None,
        "event_type": event[0] if event else None,
        "event_payload": json.dumps(event[1], cls=DjangoJSONEncoder) if event else None,
    }
    try:
        with binding_cursor() as cursor:
            for _attempt in range(2):
                # Prepared once per connection: the statement is planned once, not on every booking.
                cursor.execute(_BOOK_SQL, params, prepare=True)
                transaction_id, lines, events = _one_row(cursor)
                if transaction_id is not None:
                    break
                _refusal(
                    cursor=cursor, user_id=user_id, currency=currency, net=net, requires_hold=requires_hold
                )
            else:  # pragma: no cover - ensure_accounts makes the second attempt find them
                raise RuntimeError("wallet accounts could not be created")
    except DatabaseError as error:
        # A debit of a frozen user's cash met the ledger trigger (migration 0007).
        if is_frozen_refusal(error):
            raise account_frozen(user_id=user_id) from error
        raise
    if lines != len(legs) or events != (1 if event else 0):  # pragma: no cover - all or nothing
        raise RuntimeError(f"booked {lines} of {len(legs)} entries and {events} events")
    if event:
        nudge_relay_on_commit()
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


def _one_row(cursor: Any) -> tuple[Any, ...]:
    row: tuple[Any, ...] = cursor.fetchone()  # the booking statements always return one row
    return row


@dataclass(frozen=True)
class Booking:
    """One journal transaction of a batch (see `book_many`): a completed header of `type`
    for `user_id` with `legs` summing to zero; user-kind legs are on this user's accounts."""

    user_id: int
    legs: tuple[Leg, ...]
    type: str
    amount_minor: int
    bet_id: int | None = None
    created_by_id: int | None = None
    ref_type: str = ""
    ref_id: str = ""


@dataclass(frozen=True, slots=True)
class BookedTransaction:
    """A header written by `book_many`, as read back (no model instance: a batch has 1,000)."""

    pk: int
    user_id: int
    currency: str
    type: str
    amount_minor: int
    bet_id: int | None


# One statement for a whole batch: lock every involved account in the global order (user
# accounts by pk, then system accounts by pk), check that no user account would go negative
# after the batch's net deltas, move each account's balance once, and write every header,
# every entry and (optionally) one outbox event per header, all or nothing. Header ids are drawn from the sequence first, so each entry
# joins its own header by the booking's position.
_BOOK_MANY_SQL = f"""
WITH bk AS MATERIALIZED (
    SELECT b.*, nextval(pg_get_serial_sequence('wallet_transaction', 'id')) AS tx_id
      FROM unnest(%(b_users)s::bigint[], %(b_types)b::text[], %(b_amounts)s::bigint[], %(b_bets)s::bigint[],
                  %(b_created_by)s::bigint[], %(b_ref_types)b::text[], %(b_ref_ids)b::text[])
               WITH ORDINALITY AS b(user_id, type, amount_minor, bet_id, created_by_id, ref_type, ref_id, ord)
),
net AS (
    SELECT * FROM unnest(%(n_users)s::bigint[], %(n_kinds)b::text[], %(n_deltas)s::bigint[]) AS n(user_id, kind, delta)
),
locked AS MATERIALIZED (
    SELECT a.id, a.user_id, a.kind, a.balance_minor
      FROM wallet_account a
     WHERE a.currency = %(currency)s
       AND ((a.user_id = ANY(%(user_ids)s) AND a.kind = ANY(%(user_kinds)s))
            OR (a.user_id IS NULL AND a.kind = ANY(%(system_kinds)s)))
     ORDER BY (a.user_id IS NULL), a.id
       FOR UPDATE
),
joined AS MATERIALIZED (
    SELECT k.id, k.user_id, k.kind, k.balance_minor, n.delta
      FROM net n JOIN locked k ON k.kind = n.kind AND coalesce(k.user_id, 0) = coalesce(n.user_id, 0)
),
verdict AS (
    SELECT count(*) = %(net_count)s
           AND coalesce(bool_and(j.kind <> ALL(%(user_kinds)s) OR j.balance_minor + j.delta >= 0), false) AS ok
      FROM joined j
),
moved AS (
    UPDATE wallet_account a
       SET balance_minor = a.balance_minor + j.delta, updated_at = %(now)s
      FROM joined j, verdict v
     WHERE a.id = j.id AND v.ok
    RETURNING a.id, a.user_id, a.kind
),
header AS (
    INSERT INTO wallet_transaction (id, user_id, currency, created_at, updated_at, {", ".join(HEADER_FIELDS)})
    SELECT b.tx_id, b.user_id, %(currency)s, %(now)s, %(now)s, b.type, 'completed', b.amount_minor, 0, b.bet_id,
           NULL, '', 0, '', '', '', '', b.created_by_id, %(now)s
      FROM bk b
     WHERE (SELECT count(*) FROM moved) = %(net_count)s
     ORDER BY b.ord
    RETURNING id
),
lines AS (
    INSERT INTO wallet_ledgerentry (transaction_id, account_id, amount_minor, entry_type, ref_type, ref_id, created_at)
    SELECT b.tx_id, m.id, e.amount, e.entry_type, b.ref_type, b.ref_id, %(now)s
      FROM unnest(%(e_bookings)s::bigint[], %(e_kinds)b::text[], %(e_amounts)s::bigint[], %(e_types)b::text[])
               WITH ORDINALITY AS e(booking, kind, amount, entry_type, position)
      JOIN bk b ON b.ord = e.booking
      JOIN moved m ON m.kind = e.kind
                  AND coalesce(m.user_id, 0) = CASE WHEN e.kind = ANY(%(user_kinds)s) THEN b.user_id ELSE 0 END
     ORDER BY e.position
    RETURNING id
),
event AS (
    INSERT INTO core_outboxevent (event_id, event_type, payload, created_at, delivered_at, attempts, last_error)
    SELECT gen_random_uuid(), %(event_type)s::text, p.payload::jsonb || jsonb_build_object('transaction_id', b.tx_id),
           %(now)s, NULL, 0, ''
      FROM unnest(%(event_payloads)b::text[]) WITH ORDINALITY AS p(payload, ord)
      JOIN bk b ON b.ord = p.ord
     WHERE (SELECT count(*) FROM moved) = %(net_count)s
     ORDER BY p.ord
    RETURNING id
)
SELECT (SELECT count(*) FROM header), (SELECT count(*) FROM lines),
       (SELECT array_agg(tx_id ORDER BY ord) FROM bk), (SELECT count(*) FROM event)
"""


def book_many(
    *, currency: str, bookings: list[Booking], events: tuple[str, list[dict[str, Any]]] | None = None
) -> list[BookedTransaction]:
    """Book every one of `bookings` (each balanced) in one statement, in the current database
    transaction, all or nothing; returns their headers in order. Raises InsufficientFunds
    (409) and changes nothing if a user account would go negative after the batch.

    `events=(event_type, payloads)`, one payload per booking: write an outbox event for each
    header in the same statement, with its id added as `transaction_id`, and nudge the relay
    on commit (as `book(event=...)` does for one)."""
    if not bookings:
        return []
    if events is not None and len(events[1]) != len(bookings):
        raise ValueError("one event payload per booking")
    now = timezone.now()
    net: dict[tuple[int | None, str], int] = defaultdict(int)
    entries: list[tuple[int, Leg]] = []
    for position, booking in enumerate(bookings, start=1):
        legs = [leg for leg in booking.legs if leg.amount_minor != 0]
        if len(legs) < 2 or sum(leg.amount_minor for leg in legs) != 0:
            raise ValueError(f"unbalanced legs: {booking.legs}")
        for leg in legs:
            if leg.kind not in USER_KINDS and leg.kind not in SYSTEM_KINDS:
                raise ValueError(f"unknown account kind {leg.kind!r}")
            net[(booking.user_id if leg.kind in USER_KINDS else None, leg.kind)] += leg.amount_minor
            entries.append((position, leg))
    event_texts = [json.dumps(payload, cls=DjangoJSONEncoder) for payload in events[1]] if events else []
    # Every touched account is locked and updated, by zero if its net delta is zero.
    moving = list(net.items())
    kinds = {kind for (_user, kind) in net}
    user_ids = sorted({booking.user_id for booking in bookings})
    params = {
        "now": now,
        "currency": currency,
        "b_users": [b.user_id for b in bookings],
        "b_types": [str(b.type) for b in bookings],
        "b_amounts": [b.amount_minor for b in bookings],
        "b_bets": [b.bet_id for b in bookings],
        "b_created_by": [b.created_by_id for b in bookings],
        "b_ref_types": [b.ref_type for b in bookings],
        "b_ref_ids": [b.ref_id for b in bookings],
        "n_users": [user for (user, _kind), _delta in moving],
        "n_kinds": [kind for (_user, kind), _delta in moving],
        "n_deltas": [delta for _key, delta in moving],
        "net_count": len(moving),
        "user_ids": user_ids,
        "user_kinds": [k for k in USER_KINDS if k in kinds],
        "system_kinds": [k for k in SYSTEM_KINDS if k in kinds],
        "e_bookings": [position for position, _leg in entries],
        "e_kinds": [leg.kind for _position, leg in entries],
        "e_amounts": [leg.amount_minor for _position, leg in entries],
        "e_types": [str(leg.entry_type) for _position, leg in entries],
        "event_type": events[0] if events else None,
        "event_payloads": [json.dumps(payload, cls=DjangoJSONEncoder) for payload in events[1]]
        if events
        else [],
    }
    with binding_cursor() as cursor:
        for _attempt in range(2):
            cursor.execute(_BOOK_MANY_SQL, params, binary=True)
            headers, lines, tx_ids, published = _one_row(cursor)
            if headers == len(bookings):
                break
            _refusal_many(cursor=cursor, currency=currency, params=params)
        else:  # pragma: no cover - ensure_accounts makes the second attempt find them
            raise RuntimeError("wallet accounts could not be created")
    if lines != len(entries) or published != len(event_texts):  # pragma: no cover - all or none
        raise RuntimeError(f"booked {lines} of {len(entries)} entries and {published} events")
    if events:
        nudge_relay_on_commit()
    return [
        BookedTransaction(
            tx_id, booking.user_id, currency, booking.type, booking.amount_minor, booking.bet_id
        )
        for tx_id, booking in zip(tx_ids, bookings, strict=True)
    ]


def _refusal_many(*, cursor: Any, currency: str, params: dict[str, Any]) -> None:
    """After a refused batch: create missing accounts (the caller retries) or raise
    InsufficientFunds naming the first account that would go negative."""
    cursor.execute(
        """
        SELECT a.user_id, a.kind, a.balance_minor FROM wallet_account a
         WHERE a.currency = %(currency)s
           AND ((a.user_id = ANY(%(user_ids)s) AND a.kind = ANY(%(user_kinds)s))
                OR (a.user_id IS NULL AND a.kind = ANY(%(system_kinds)s)))
        """,
        params,
    )
    balances = {(user, kind): balance for user, kind, balance in cursor.fetchall()}
    wanted = list(zip(params["n_users"], params["n_kinds"], params["n_deltas"], strict=True))
    if any((user, kind) not in balances for user, kind, _delta in wanted):
        for user_id in params["user_ids"]:
            ensure_accounts(user_id=user_id, currency=currency)
        return
    user, kind, delta = next((u, k, d) for u, k, d in wanted if k in USER_KINDS and balances[(u, k)] + d < 0)
    raise InsufficientFunds(
        "Not enough funds for this operation.",
        details={
            "account": kind,
            "user_id": user,
            "available": minor_to_decimal(balances[(user, kind)]),
            "required": minor_to_decimal(-delta),
            "currency": currency,
        },
    )
