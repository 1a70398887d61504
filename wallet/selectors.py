"""Reads of the wallet, always scoped to one user."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection
from django.db.models import F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from betthat.core.money import convert_minor
from wallet.models import Account, DepositLimit, LedgerEntry, Payment, Transaction

if TYPE_CHECKING:
    from betthat.users.models import User


@dataclass(frozen=True)
class Balances:
    currency: str
    available_minor: int
    held_minor: int
    total_minor: int


def wallet_balances_for_user(*, user: User, currency: str = "USD") -> Balances:
    """Available (cash), held (stakes and withdrawals in flight) and their total."""
    rows = dict(
        Account.objects.filter(
            user_id=user.pk, currency=currency, kind__in=[Account.Kind.CASH, Account.Kind.HOLDS]
        ).values_list("kind", "balance_minor")
    )
    available = rows.get(Account.Kind.CASH, 0)
    held = rows.get(Account.Kind.HOLDS, 0)
    return Balances(
        currency=currency, available_minor=available, held_minor=held, total_minor=available + held
    )


def transaction_list_for_user(
    *, user: User, type: str | None = None, status: str | None = None, currency: str | None = None
) -> QuerySet[Transaction]:
    """The user's transactions, newest first, each with its entries on the user's accounts."""
    entries = LedgerEntry.objects.filter(account__user_id=user.pk).select_related("account").order_by("id")
    queryset = Transaction.objects.filter(user_id=user.pk).prefetch_related(
        Prefetch("entries", queryset=entries, to_attr="user_entries")
    )
    if type:
        queryset = queryset.filter(type=type)
    if status:
        queryset = queryset.filter(status=status)
    if currency:
        queryset = queryset.filter(currency=currency)
    return queryset.order_by("-id")


def transaction_get_for_user(*, user: User, transaction_id: int) -> Transaction | None:
    return transaction_list_for_user(user=user).filter(pk=transaction_id).first()


def payment_get_for_user(*, user: User, payment_id: int) -> Payment | None:
    return Payment.objects.filter(user_id=user.pk, pk=payment_id).first()


def payment_list_for_user(*, user: User, limit: int = 10) -> list[Payment]:
    return list(Payment.objects.filter(user_id=user.pk).order_by("-id")[:limit])


@dataclass(frozen=True)
class BalancePoint:
    day: datetime
    total_minor: int


def balance_history_for_user(*, user: User, currency: str = "USD", days: int = 30) -> list[BalancePoint]:
    """End-of-day total (cash + holds) for each of the last `days` days, oldest first."""
    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    start_at = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH acct AS (
                SELECT id FROM wallet_account WHERE user_id = %s AND currency = %s AND kind IN ('cash', 'holds')
            ),
            opening AS (
                SELECT coalesce(sum(e.amount_minor), 0) AS total
                  FROM wallet_ledgerentry e WHERE e.account_id IN (SELECT id FROM acct) AND e.created_at < %s
            ),
            daily AS (
                SELECT (e.created_at AT TIME ZONE %s)::date AS day, sum(e.amount_minor) AS delta
                  FROM wallet_ledgerentry e
                 WHERE e.account_id IN (SELECT id FROM acct) AND e.created_at >= %s
                 GROUP BY 1
            )
            SELECT d::date, (SELECT total FROM opening)
                   + coalesce(sum(daily.delta) OVER (ORDER BY d ROWS UNBOUNDED PRECEDING), 0)
              FROM generate_series(%s::date, %s::date, interval '1 day') AS d
              LEFT JOIN daily ON daily.day = d::date
             ORDER BY d
            """,
            [user.pk, currency, start_at, timezone.get_current_timezone_name(), start_at, start, today],
        )
        return [
            BalancePoint(
                day=timezone.make_aware(datetime.combine(day, datetime.min.time())), total_minor=int(total)
            )
            for day, total in cursor.fetchall()
        ]


@dataclass(frozen=True)
class LimitView:
    period: str
    label: str
    amount_minor: int | None
    pending_amount_minor: int | None
    pending_is_removal: bool
    pending_effective_at: datetime | None
    used_minor: int


PERIOD_DAYS: dict[str, int] = {
    DepositLimit.Period.DAY.value: 1,
    DepositLimit.Period.WEEK.value: 7,
    DepositLimit.Period.MONTH.value: 30,
}


def effective_limit(limit: DepositLimit, *, now: datetime | None = None) -> int | None:
    """The limit in force now: a pending raise counts once its cooling-off has passed."""
    now = now or timezone.now()
    if limit.pending_effective_at is not None and limit.pending_effective_at <= now:
        return None if limit.pending_is_removal else limit.pending_amount_minor
    return limit.amount_minor


def deposits_in_window_minor(*, user: User, currency: str, days: int, now: datetime | None = None) -> int:
    """Deposits started (and not failed) in the rolling window, in every currency, counted in
    `currency` at the fixed rates betting's limits use (betthat.core.money.convert_minor,
    rounded up so a conversion never makes room). Pending ones count, so a user cannot open
    many checkouts at once to get around a limit."""
    now = now or timezone.now()
    per_currency = (
        Payment.objects.filter(
            user_id=user.pk,
            direction=Payment.Direction.DEPOSIT,
            created_at__gt=now - timedelta(days=days),
            status__in=[Payment.Status.PENDING, Payment.Status.PROCESSING, Payment.Status.SUCCEEDED],
        )
        .order_by()
        .values_list("currency")
        .annotate(total=Sum("amount_minor"))
    )
    return sum(convert_minor(int(total), paid_in, currency, round_up=True) for paid_in, total in per_currency)


def deposit_limits_for_user(*, user: User, currency: str = "USD") -> list[LimitView]:
    now = timezone.now()
    stored = {
        limit.period: limit for limit in DepositLimit.objects.filter(user_id=user.pk, currency=currency)
    }
    views = []
    for period, label in DepositLimit.Period.choices:
        limit = stored.get(period)
        pending_at = limit.pending_effective_at if limit is not None else None
        pending = limit is not None and pending_at is not None and pending_at > now
        views.append(
            LimitView(
                period=period,
                label=label,
                amount_minor=effective_limit(limit, now=now) if limit else None,
                pending_amount_minor=limit.pending_amount_minor if limit is not None and pending else None,
                pending_is_removal=bool(limit is not None and pending and limit.pending_is_removal),
                pending_effective_at=pending_at if pending else None,
                used_minor=deposits_in_window_minor(
                    user=user, currency=currency, days=PERIOD_DAYS[period], now=now
                ),
            )
        )
    return views


# The CSV export's columns: (header, field read by values_list). wallet/exports.py writes
# the headers; the selectors below read the fields in the same order.
EXPORT_COLUMNS = (
    ("id", "id"),
    ("created_at", "created_at"),
    ("completed_at", "completed_at"),
    ("type", "type"),
    ("status", "status"),
    ("currency", "currency"),
    ("amount", "amount_minor"),
    ("fee", "fee_minor"),
    ("cash_change", "cash_change_minor"),
    ("held_change", "held_change_minor"),
    ("bet_id", "bet_id"),
    ("payment_id", "payment_id"),
    ("sportsbook", "sportsbook_id"),
    ("reason", "reason"),
)
STAFF_EXPORT_COLUMNS = (
    *EXPORT_COLUMNS,
    ("user_id", "user_id"),
    ("user_email", "user__email"),
    ("created_by_id", "created_by_id"),
    ("external_reference", "external_reference"),
)
EXPORT_FIELDS = tuple(field for _, field in EXPORT_COLUMNS)
STAFF_EXPORT_FIELDS = tuple(field for _, field in STAFF_EXPORT_COLUMNS)


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00 UTC, the day after end 00:00 UTC): both days inclusive."""
    low = datetime.combine(start, time.min, tzinfo=UTC)
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    return low, high


def _with_user_changes(queryset: QuerySet[Transaction]) -> QuerySet[Transaction]:
    """Each transaction's net change to its user's cash and holds (the sums of its entries on
    the user's own accounts: what the wallet page and the API's entries show)."""
    own = Q(entries__account__user_id=F("user_id"))
    return queryset.annotate(
        cash_change_minor=Coalesce(
            Sum("entries__amount_minor", filter=own & Q(entries__account__kind="cash")), 0
        ),
        held_change_minor=Coalesce(
            Sum("entries__amount_minor", filter=own & Q(entries__account__kind="holds")), 0
        ),
    )


def transaction_export_for_user(
    *, user: AbstractBaseUser, start: date, end: date
) -> Iterator[tuple[Any, ...]]:
    """The user's transactions created from `start` to `end` (UTC days, inclusive), oldest
    first, as tuples of EXPORT_FIELDS; streamed from the database in chunks."""
    low, high = _day_bounds(start, end)
    queryset = Transaction.objects.filter(user_id=user.pk, created_at__gte=low, created_at__lt=high)
    return _with_user_changes(queryset).order_by("id").values_list(*EXPORT_FIELDS).iterator(chunk_size=2000)


def transaction_export_all(*, start: date, end: date) -> Iterator[tuple[Any, ...]]:
    """Every transaction created from `start` to `end` (UTC days, inclusive), for staff's
    regulatory reporting, as tuples of STAFF_EXPORT_FIELDS; streamed in chunks."""
    low, high = _day_bounds(start, end)
    queryset = Transaction.objects.filter(created_at__gte=low, created_at__lt=high)
    return (
        _with_user_changes(queryset)
        .order_by("id")
        .values_list(*STAFF_EXPORT_FIELDS)
        .iterator(chunk_size=2000)
    )


# A deposit still `pending` after this long was a checkout the user never paid (the provider
# reports `processing` once it has the money): it no longer counts as money on its way.
ABANDONED_CHECKOUT_AFTER = timedelta(hours=1)


def payments_in_flight_for_user(*, user: User, now: datetime | None = None) -> int:
    """How many of the user's payments the provider has not finished: withdrawals pending or
    processing, deposits processing, and deposits pending for less than
    ABANDONED_CHECKOUT_AFTER (a checkout that may still be paid)."""
    now = now or timezone.now()
    unfinished = [Payment.Status.PENDING, Payment.Status.PROCESSING]
    return (
        Payment.objects.filter(user=user, status__in=unfinished)
        .exclude(
            direction=Payment.Direction.DEPOSIT,
            status=Payment.Status.PENDING,
            created_at__lt=now - ABANDONED_CHECKOUT_AFTER,
        )
        .count()
    )


def wallet_money_for_user(*, user: User) -> dict[str, Balances]:
    """The user's balances in every currency they have an account in (none: an empty dict)."""
    currencies = (
        Account.objects.filter(user=user).values_list("currency", flat=True).distinct().order_by("currency")
    )
    return {currency: wallet_balances_for_user(user=user, currency=currency) for currency in currencies}
