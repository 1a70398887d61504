"""Celery tasks of the wallet: thin, idempotent, taking plain data."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="wallet.tasks.prune_idempotency_keys_task", ignore_result=True)  # type: ignore[untyped-decorator, misc, unused-ignore]
def prune_idempotency_keys_task() -> int:
    """Delete idempotency keys older than 24 hours (hourly, from the beat schedule)."""
    from wallet.services import idempotency_keys_prune

    return idempotency_keys_prune()


@shared_task(  # type: ignore[untyped-decorator, misc, unused-ignore]
    name="wallet.tasks.deliver_sandbox_webhooks_task",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def deliver_sandbox_webhooks_task(events: list[dict[str, Any]]) -> int:
    """The sandbox provider's webhook sender: signs each event now and delivers it in order.
    Safe to run twice: the endpoint records each event id once."""
    from wallet.providers.sandbox import deliver

    return len(deliver(events))


@shared_task(name="wallet.tasks.resubmit_withdrawals_task", ignore_result=True)  # type: ignore[untyped-decorator, misc, unused-ignore]
def resubmit_withdrawals_task() -> int:
    """Ask the provider again for held withdrawals it never confirmed receiving (every minute,
    from the beat schedule). Safe to run twice: the provider's idempotency key is the payment."""
    from wallet.services import withdrawals_resubmit_due

    return withdrawals_resubmit_due()
