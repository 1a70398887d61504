"""Responsible gambling: betting limits (a raise waits out a cooling-off period, a cut applies
at once), self-exclusion, and the limit arithmetic placement and Kelly sizing share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from djmoney.money import Money

from betthat.core.errors import ApplicationError
from betthat.users.models import User
from betting.models import LimitChange

COOLING_OFF = timedelta(hours=24)
LIMIT_FIELDS = tuple(choice.value for choice in LimitChange.Field)
MAX_SELF_EXCLUSION = timedelta(days=365 * 5)


def money_to_minor(money: Money | Decimal) -> int:
    amount = money.amount if isinstance(money, Money) else Decimal(money)
    return int((amount * 100).to_integral_value())


def user_zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def period_starts(user: User, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The start of today and of this month, as calendar periods in the user's time zone."""
    local = (now or timezone.now()).astimezone(user_zone(user))
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day.replace(day=1)


@dataclass(frozen=True)
class Headroom:
    currency: str
    max_bet_minor: int
    daily_limit_minor: int
    monthly_limit_minor: int
    staked_today_minor: int
    staked_month_minor: int

    @property
    def daily_remaining_minor(self) -> int:
        return max(0, self.daily_limit_minor - self.staked_today_minor)

    @property
    def monthly_remaining_minor(self) -> int:
        return max(0, self.monthly_limit_minor - self.staked_month_minor)

    @property
    def stake_cap_minor(self) -> int:
        """The largest stake the limits allow right now."""
        return min(self.max_bet_minor, self.daily_remaining_minor, self.monthly_remaining_minor)

    def as_dict(self) -> dict:
        return {
            "currency": self.currency,
            "max_bet_minor": self.max_bet_minor,
            "daily_limit_minor": self.daily_limit_minor,
            "monthly_limit_minor": self.monthly_limit_minor,
            "staked_today_minor": self.staked_today_minor,
            "staked_month_minor": self.staked_month_minor,
            "daily_remaining_minor": self.daily_remaining_minor,
            "monthly_remaining_minor": self.monthly_remaining_minor,
            "stake_cap_minor": self.stake_cap_minor,
        }


_HEADROOM_SQL = """
SELECT coalesce(sum(b.stake_minor), 0),
       coalesce(sum(b.stake_minor) FILTER (WHERE b.placed_at >= %(day)s), 0),
       EXISTS (SELECT 1 FROM betting_limitchange c
                WHERE c.user_id = %(user)s AND c.applied_at IS NULL AND c.cancelled_at IS NULL
                  AND c.effective_at <= %(now)s)
  FROM betting_bet b
 WHERE b.user_id = %(user)s AND b.currency = %(currency)s AND b.placed_at >= %(month)s AND b.status <> 'cancelled'
"""


def limit_headroom(*, user: User, currency: str, now: datetime | None = None) -> Headroom:
    """What the user has staked today and this month (cancelled bets excluded) against the
    limits in force (raises whose cooling-off has passed are applied first). One query in
    the common case; placement calls it under the wallet lock so the sums are current."""
    now = now or timezone.now()
    day_start, month_start = period_starts(user, now)
    with connection.cursor() as cursor:
        cursor.execute(
            _HEADROOM_SQL,
            {"day": day_start, "month": month_start, "user": user.pk, "now": now, "currency": currency},
        )
        month, day, has_due_change = cursor.fetchone()
    if has_due_change:
        limit_changes_apply_due(user=user, now=now)
    return Headroom(
        currency=currency,
        max_bet_minor=money_to_minor(user.max_bet_size),
        daily_limit_minor=money_to_minor(user.daily_bet_limit),
        monthly_limit_minor=money_to_minor(user.monthly_bet_limit),
        staked_today_minor=int(day),
        staked_month_minor=int(month),
    )


def check_limits(*, headroom: Headroom, stake_minor: int) -> None:
    checks = [
        ("max_bet_size", headroom.max_bet_minor, stake_minor > headroom.max_bet_minor),
        ("daily_bet_limit", headroom.daily_remaining_minor, stake_minor > headroom.daily_remaining_minor),
        (
            "monthly_bet_limit",
            headroom.monthly_remaining_minor,
            stake_minor > headroom.monthly_remaining_minor,
        ),
    ]
    for name, allowed, exceeded in checks:
        if exceeded:
            raise ApplicationError(
                f"This stake is over your {name.replace('_', ' ')}.",
                code="limit_exceeded",
                status=409,
                details={
                    "limit": name,
                    "allowed_minor": allowed,
                    "stake_minor": stake_minor,
                    **headroom.as_dict(),
                },
            )


def limit_changes_apply_due(*, user: User, now: datetime | None = None) -> int:
    """Apply raises whose cooling-off has passed (called before limits are read)."""
    now = now or timezone.now()
    if not LimitChange.objects.filter(
        user_id=user.pk, applied_at__isnull=True, cancelled_at__isnull=True, effective_at__lte=now
    ).exists():
        return 0
    with transaction.atomic():
        due = list(
            LimitChange.objects.select_for_update()
            .filter(
                user_id=user.pk, applied_at__isnull=True, cancelled_at__isnull=True, effective_at__lte=now
            )
            .order_by("effective_at", "id")
        )
        fresh = User.objects.select_for_update().get(pk=user.pk)
        for change in due:
            setattr(fresh, change.field, Money(Decimal(change.amount_minor) / 100, change.currency))
            change.applied_at = now
            change.save(update_fields=["applied_at"])
        fresh.save(update_fields=[*{c.field for c in due}, "updated_at"])
    for change in due:
        setattr(user, change.field, getattr(fresh, change.field))
    return len(due)


@transaction.atomic
def user_limits_update(*, user: User, limits: dict[str, int], now: datetime | None = None) -> dict[str, str]:
    """Change betting limits (`{"daily_bet_limit": minor, ...}`).

    A cut applies at once and withdraws any pending raise of that limit; a raise is queued
    for `COOLING_OFF` (a newer raise replaces the pending one). Returns, per field,
    "applied", "pending" or "unchanged".
    """
    now = now or timezone.now()
    fresh = User.objects.select_for_update().get(pk=user.pk)
    outcome: dict[str, str] = {}
    changed = []
    for field, amount_minor in limits.items():
        if field not in LIMIT_FIELDS:
            raise ApplicationError(f"{field} is not a betting limit.", code="validation_error")
        if not isinstance(amount_minor, int) or amount_minor <= 0:
            raise ApplicationError(
                "A limit is a positive amount.", code="invalid_amount", details={"field": field}
            )
        current = getattr(fresh, field)
        current_minor = money_to_minor(current)
        pending = LimitChange.objects.filter(
            user_id=user.pk, field=field, applied_at__isnull=True, cancelled_at__isnull=True
        )
        if amount_minor == current_minor:
            pending.update(cancelled_at=now)
            outcome[field] = "unchanged"
        elif amount_minor < current_minor:
            pending.update(cancelled_at=now)
            setattr(fresh, field, Money(Decimal(amount_minor) / 100, current.currency))
            changed.append(field)
            outcome[field] = "applied"
        else:
            pending.update(cancelled_at=now)
            LimitChange.objects.create(
                user_id=user.pk,
                field=field,
                amount_minor=amount_minor,
                currency=str(current.currency),
                requested_at=now,
                effective_at=now + COOLING_OFF,
            )
            outcome[field] = "pending"
    if changed:
        fresh.save(update_fields=[*changed, "updated_at"])
        for field in changed:
            setattr(user, field, getattr(fresh, field))
    return outcome


@transaction.atomic
def user_self_exclude(*, user: User, days: int, now: datetime | None = None) -> User:
    """Exclude the user from betting for `days` days. It can be lengthened, never shortened."""
    now = now or timezone.now()
    if not isinstance(days, int) or days < 1 or timedelta(days=days) > MAX_SELF_EXCLUSION:
        raise ApplicationError(
            "Choose between 1 day and 5 years.", code="validation_error", details={"days": days}
        )
    fresh = User.objects.select_for_update().get(pk=user.pk)
    until = now + timedelta(days=days)
    if fresh.self_excluded_until is None or fresh.self_excluded_until < until:
        fresh.self_excluded_until = until
        fresh.save(update_fields=["self_excluded_until", "updated_at"])
    user.self_excluded_until = fresh.self_excluded_until
    return user
