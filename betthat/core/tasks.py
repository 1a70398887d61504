from celery import shared_task

from betthat.core.realtime import notify, user_group


@shared_task(name="betthat.core.tasks.notify_task")
def notify_task(user_id: int, payload: dict) -> None:
    """Push a notification to a user's sockets from a worker (outside any transaction)."""
    notify(user_id, payload)


@shared_task(
    name="betthat.core.tasks.relay_outbox_task",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def relay_outbox_task() -> int:
    """Deliver pending outbox events (periodic every second, and nudged on commit)."""
    from betthat.core.outbox import nudge_taken, relay_outbox

    nudge_taken()
    return relay_outbox()


__all__ = ["notify_task", "relay_outbox_task", "user_group"]
