"""Celery tasks of the chat app (thin; the work is in partitions and demo)."""

from __future__ import annotations

import logging

from celery import shared_task

from chat import demo, partitions, services

logger = logging.getLogger(__name__)


@shared_task(name="chat.tasks.maintain_partitions_task", ignore_result=True)
def maintain_partitions_task() -> dict[str, list[str]]:
    """Create message partitions ahead of time and drop those past retention (daily)."""
    created = partitions.ensure_partitions()
    dropped = partitions.drop_expired_partitions()
    strays = partitions.default_partition_rows()
    if strays:
        logger.warning("%d chat messages sit in the default partition", strays)
    return {"created": created, "dropped": dropped}


@shared_task(name="chat.tasks.demo_chatter_task", ignore_result=True)
def demo_chatter_task() -> bool:
    return demo.chatter()


@shared_task(name="chat.tasks.close_finished_rooms_task", ignore_result=True)
def close_finished_rooms_task() -> int:
    """Event rooms close CHAT_ROOM_CLOSE_AFTER_HOURS after their event finished."""
    return services.rooms_close_finished()
