"""Outbox handlers: results and kick-offs published by the edges app start our work.

The relay runs each handler inside a transaction, once per event; the handlers grade in
that transaction (cheap, idempotent updates) and enqueue the heavy work only after commit
(never `.delay()` inside a transaction).
"""

from __future__ import annotations

import logging

from django.db import transaction

from betthat.core.outbox import register_handler

logger = logging.getLogger(__name__)


def _event_id(payload: dict) -> int | None:
    value = payload.get("event_id", payload.get("id"))
    if value is not None:
        try:
            return int(value)
        except (TypeError, ValueError):
            pass
    logger.warning("event payload without an event id: %r", payload)
    return None


def _enqueue(task, event_id: int) -> None:
    def send() -> None:
        try:
            task.apply_async(kwargs={"event_id": event_id})
        except Exception:  # the periodic task picks it up within 30 s
            logger.warning("could not enqueue %s for event %s", task.name, event_id, exc_info=True)

    transaction.on_commit(send)


@register_handler("event.finished")
@register_handler("event.cancelled")
def on_event_result(event_id: str, payload: dict) -> None:
    from betting.services import bet_legs_grade_event
    from betting.tasks import settle_due_bets_task

    target = _event_id(payload)
    if target is None:
        return
    bet_legs_grade_event(event_id=target)
    _enqueue(settle_due_bets_task, target)


@register_handler("event.started")
def on_event_started(event_id: str, payload: dict) -> None:
    from betting.tasks import capture_closing_lines_task

    target = _event_id(payload)
    if target is not None:
        _enqueue(capture_closing_lines_task, target)


@register_handler("payments.succeeded")
def on_payment_succeeded(event_id: str, payload: dict) -> None:
    """A bettor closing their account is closed once the payout of their balance succeeds."""
    if payload.get("direction") != "WITHDRAWAL" or not isinstance(payload.get("user_id"), int):
        return
    from betting.services.closure import account_close_finish

    account_close_finish(user_id=payload["user_id"])
