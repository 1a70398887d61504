"""Celery tasks of the wallet: thin, idempotent, taking plain data."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="wallet.tasks.prune_idempotency_keys_task", ignore_result=True)
def prune_idempotency_keys_task() -> int:
    """Delete idempotency keys older than 24 hours (hourly, from the beat schedule)."""
    from wallet.services import idempotency_keys_prune

    return idempotency_keys_prune()


@shared_task(
    name="wallet.tasks.deliver_sandbox_webhooks_task",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def deliver_sandbox_webhooks_task(events: list[dict]) -> int:
    """The sandbox provider's webhook sender: signs each event now and delivers it in order.
    Safe to run twice: the endpoint records each event id once."""
    from wallet.providers.sandbox import deliver

    return len(deliver(events))
