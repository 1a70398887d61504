from celery import shared_task

from betthat.core.realtime import notify, send_now, user_group


@shared_task(name="betthat.core.tasks.notify_task")
def notify_task(user_id: int, payload: dict) -> None:
    """Push a notification to a user's sockets from a worker (outside any transaction)."""
    notify(user_id, payload)


__all__ = ["notify_task", "send_now", "user_group"]
