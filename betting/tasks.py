"""Celery tasks of the betting app: thin, id-taking, safe to run twice.

Settlement is routed to the `settlement` queue, the closing-line capture to its own
`closing` queue (betthat/celery.py); acks_late with reject-on-worker-lost,
so a worker killed mid-task leaves the message to be redelivered, and the services they
call settle or capture each bet once whatever happens.
"""

from __future__ import annotations

from celery import shared_task

from betting.services import (
    bet_closing_lines_capture,
    bet_legs_grade_event,
    closing_lines_capture_due,
    placing_bets_resolve,
    settle_due_bets,
)

MONEY_TASK = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name="betting.tasks.settle_due_bets_task", **MONEY_TASK)
def settle_due_bets_task(event_id: int | None = None, batch_size: int = 500) -> int:
    """Settle every due bet (periodic every 30 s; also right after results arrive)."""
    if event_id is not None:
        bet_legs_grade_event(event_id=event_id)
    return settle_due_bets(batch_size=batch_size)


@shared_task(name="betting.tasks.capture_closing_lines_task", **MONEY_TASK)
def capture_closing_lines_task(event_id: int | None = None) -> int:
    """Closing prices and CLV for an event that started (or, periodically, for any missed)."""
    if event_id is not None:
        return bet_closing_lines_capture(event_id=event_id)
    return closing_lines_capture_due()


@shared_task(name="betting.tasks.resolve_placing_bets_task", **MONEY_TASK)
def resolve_placing_bets_task() -> int:
    """Bets left `placing` past BETTING_PLACING_RECOVERY_SECONDS, filled or released from the
    venue's answer (periodic; each bet is booked once however often this runs)."""
    sweep = placing_bets_resolve()
    return sweep.filled + sweep.released
