"""Responsible gambling: who may deposit, and deposit limits with a cooling-off on raises."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from betthat.core.errors import ApplicationError
from betthat.core.money import convert_minor
from betthat.core.serializers import minor_to_decimal
from betthat.users.models import User
from wallet.locks import lock_user_accounts
from wallet.models import DepositLimit
from wallet.selectors import PERIOD_DAYS, deposits_in_window_minor, effective_limit
from wallet.services.common import (
    COOLING_OFF,
    _check_amount,
    _check_currency,
)


def _check_may_deposit(user: User) -> None:
    if user.is_suspended or not user.is_active:
        raise ApplicationError("This account is suspended.", code="account_suspended", status=403)
    if user.is_self_excluded:
        raise ApplicationError(
            "You are self-excluded and cannot deposit.",
            code="self_excluded",
            status=403,
            details={"until": user.self_excluded_until.isoformat() if user.self_excluded_until else None},
        )


def _check_deposit_limits(*, user: User, amount_minor: int, currency: str) -> None:
    """Every deposit limit of the user, whatever its currency, against the deposits of the
    window in every currency plus this one, converted into the limit's currency (amounts round
    up, so converting never makes room). Runs under the user's account lock of `currency`
    (`_open_payment`); the user row is locked too, so deposits in two currencies at once are
    counted one after the other."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
    now = timezone.now()
    for limit in DepositLimit.objects.filter(user_id=user.pk).order_by("currency", "period"):
        cap = effective_limit(limit, now=now)
        if cap is None:
            continue
        used = deposits_in_window_minor(
            user=user, currency=limit.currency, days=PERIOD_DAYS[limit.period], now=now
        )
        counted = convert_minor(amount_minor, currency, limit.currency, round_up=True)
        if used + counted > cap:
            raise ApplicationError(
                f"This deposit would exceed your {limit.get_period_display()} deposit limit.",
                code="limit_exceeded",
                status=409,
                details={
                    "period": limit.period,
                    "limit": minor_to_decimal(cap),
                    "used": minor_to_decimal(used),
                    "remaining": minor_to_decimal(max(cap - used, 0)),
                    "currency": limit.currency,
                },
            )


@transaction.atomic
def deposit_limit_set(
    *, user: User, period: str, amount_minor: int | None, currency: str = "USD"
) -> DepositLimit:
    """Set a deposit limit. A lower limit applies at once; a higher one, or removing the
    limit, applies after a 24-hour cooling-off (and a pending raise is replaced)."""
    if period not in DepositLimit.Period.values:
        raise ApplicationError(
            "Unknown limit period.",
            code="validation_error",
            details={"period": [f"Choose one of {DepositLimit.Period.values}."]},
        )
    if amount_minor is not None:
        _check_amount(amount_minor, allow_zero=True)
    _check_currency(currency)
    lock_user_accounts(user_id=user.pk, currency=currency)
    limit, _created = DepositLimit.objects.select_for_update().get_or_create(
        user=user, period=period, currency=currency
    )
    now = timezone.now()
    current = effective_limit(limit, now=now)
    if limit.pending_effective_at is not None and limit.pending_effective_at <= now:
        limit.amount_minor = current  # the cooling-off is over: make the raise permanent
    limit.pending_amount_minor = None
    limit.pending_is_removal = False
    limit.pending_effective_at = None
    is_decrease = amount_minor is not None and (current is None or amount_minor <= current)
    if is_decrease or (current is None and amount_minor is None):
        limit.amount_minor = amount_minor
    else:
        limit.pending_amount_minor = amount_minor
        limit.pending_is_removal = amount_minor is None
        limit.pending_effective_at = now + COOLING_OFF
    limit.updated_at = now
    limit.save()
    return limit
