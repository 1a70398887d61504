"""Self-service account closure: pay the balance out, then deactivate.

`account_close` is what the page and the API call (after a recent re-authentication):

1. an account already closed answers "closed" again (idempotent);
2. refused while frozen (403 `account_frozen`: staff must settle it first), while a bet is
   open (409 `bets_open`) or money is held or in flight (409 `money_held`: a stake, a
   withdrawal or a deposit the provider has not finished);
3. with cash left in any currency: a withdrawal of all of it through the payment provider
   (`wallet_withdraw`, which needs the withdrawal verification level), the request recorded,
   and the answer "payout_pending"; the account closes when the payout succeeds (the
   `payments.succeeded` handler calls `account_close_finish`), or on the next request;
4. with nothing left: the account is closed (`users.services.user_close`: deactivated,
   soft-deleted so it leaves public surfaces, tokens revoked, audited).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings

from betthat.core.errors import ApplicationError
from betthat.users.compliance import check_not_frozen
from betthat.users.models import User
from betthat.users.services import user_close, user_closure_request
from betting.models import Bet
from wallet.selectors import payments_in_flight_for_user, wallet_money_for_user
from wallet.services import wallet_withdraw

if TYPE_CHECKING:
    from wallet.models import Payment

OPEN_STATUSES = (Bet.Status.PLACING, Bet.Status.PENDING)


@dataclass
class ClosureResult:
    status: str  # "closed" or "payout_pending"
    payouts: list[Payment] = field(default_factory=list)


def closure_open_bets(*, user: User) -> int:
    return Bet.objects.filter(user=user, status__in=OPEN_STATUSES).count()


def closure_money(*, user: User) -> list[dict[str, object]]:
    """Per currency with money: available and held, as the closure page shows them."""
    return [
        {"currency": currency, "available_minor": b.available_minor, "held_minor": b.held_minor}
        for currency, b in wallet_money_for_user(user=user).items()
        if b.total_minor
    ]


def _refuse_if_busy(user: User) -> None:
    open_bets = closure_open_bets(user=user)
    if open_bets:
        raise ApplicationError(
            "Close your account once your open bets have settled.",
            code="bets_open",
            status=409,
            details={"open_bets": open_bets},
        )
    held = {
        currency: b.held_minor for currency, b in wallet_money_for_user(user=user).items() if b.held_minor
    }
    in_flight = payments_in_flight_for_user(user=user)
    if held or in_flight:
        raise ApplicationError(
            "Money is still held or on its way (a stake, a withdrawal or a deposit); try again once it has arrived.",
            code="money_held",
            status=409,
            details={"held_minor": held, "payments_in_flight": in_flight},
        )


def account_close(*, user: User, idempotency_key: str = "") -> ClosureResult:
    """Close the bettor's own account, paying its balance out first (see the module docstring).
    Runs outside any transaction: the payout is a provider call. With `idempotency_key` (the
    API's header), each currency's payout key is derived from it, so a retry of a request
    that died half-way finds the payouts it started instead of starting others."""
    user = User.all_objects.get(pk=user.pk)  # fresh: a freeze or a closure may have just landed
    if user.closed_at is not None:
        return ClosureResult(status="closed")
    check_not_frozen(user)
    _refuse_if_busy(user)
    cash = {
        currency: b.available_minor
        for currency, b in wallet_money_for_user(user=user).items()
        if b.available_minor
    }
    if not cash:
        user_close(user=user)
        return ClosureResult(status="closed")
    user_closure_request(user=user)
    payouts = [
        wallet_withdraw(
            user=user,
            amount_minor=amount,
            currency=currency,
            provider=settings.PAYMENTS_PROVIDER,
            idempotency_key=f"account-closure:{currency}:{idempotency_key or uuid.uuid4().hex}",
        )
        for currency, amount in sorted(cash.items())
    ]
    return ClosureResult(status="payout_pending", payouts=payouts)


def account_close_finish(*, user_id: int) -> bool:
    """After a payout: close the account if its bettor asked and nothing is left (no open bet,
    no money held, in flight or in cash). True if the account is (now) closed."""
    user = User.all_objects.filter(pk=user_id).first()
    if user is None or user.closure_requested_at is None:
        return False
    if user.closed_at is not None:
        return True
    if Bet.objects.filter(user=user, status__in=OPEN_STATUSES).exists() or payments_in_flight_for_user(
        user=user
    ):
        return False
    if any(b.total_minor for b in wallet_money_for_user(user=user).values()):
        return False
    user_close(user=user)
    return True
