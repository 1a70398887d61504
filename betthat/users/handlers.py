"""Outbox handlers of the users app: the events that owe a notification email.

The relay runs each handler once per event inside a transaction; the email row is written
there (unique per user and event) and the send task leaves after commit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from betthat.core.money import from_minor
from betthat.core.outbox import register_handler
from betthat.users.emails import Kind, email_notification_queue


@register_handler("bet.settled")
def email_bet_settled(event_id: str, payload: dict[str, Any]) -> None:
    user_id, bet_id = payload.get("user_id"), payload.get("bet_id")
    if not isinstance(user_id, int) or not isinstance(bet_id, int):
        return
    currency = str(payload.get("currency") or "USD")
    net = int(payload.get("net_profit_minor") or 0)
    email_notification_queue(
        user_id=user_id,
        kind=Kind.BET_SETTLED,
        dedupe_key=f"bet_settled:{bet_id}",
        context={
            "bet_id": bet_id,
            "result": str(payload.get("result") or ""),
            "currency": currency,
            "stake": str(from_minor(int(payload.get("stake_minor") or 0), currency)),
            "payout": str(from_minor(int(payload.get("actual_return_minor") or 0), currency)),
            "net_profit": str(from_minor(net, currency)),
            "is_profit": net > 0,
            "odds_decimal": str(payload.get("odds_decimal") or ""),
        },
    )


def _payment(payload: dict[str, Any], *, succeeded: bool) -> None:
    user_id, payment_id = payload.get("user_id"), payload.get("payment_id")
    direction = str(payload.get("direction") or "").lower()
    if (
        not isinstance(user_id, int)
        or not isinstance(payment_id, int)
        or direction not in ("deposit", "withdrawal")
    ):
        return
    email_notification_queue(
        user_id=user_id,
        kind=Kind.DEPOSIT if direction == "deposit" else Kind.WITHDRAWAL,
        dedupe_key=f"payment:{payment_id}",
        context={
            "payment_id": payment_id,
            "amount": str(Decimal(str(payload.get("amount")))),
            "currency": str(payload.get("currency") or "USD"),
            "succeeded": succeeded,
            "reason": str(payload.get("reason") or "")[:300],
        },
    )


@register_handler("payments.succeeded")
def email_payment_succeeded(event_id: str, payload: dict[str, Any]) -> None:
    _payment(payload, succeeded=True)


@register_handler("payments.failed")
def email_payment_failed(event_id: str, payload: dict[str, Any]) -> None:
    _payment(payload, succeeded=False)
