"""Realtime fan-out. Services call `broadcast` or `notify`; the message leaves only
after the database transaction commits, so nobody sees an event that rolled back."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def send_now(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # realtime is best effort; the database is the truth
        logger.exception("broadcast to %s failed", group)


def broadcast(group: str, event: dict[str, Any]) -> None:
    """Send `event` to a channel-layer group once the current transaction commits.

    `event` must carry a "type" naming the consumer handler (e.g. "edge.updated").
    """
    transaction.on_commit(lambda: send_now(group, event))


def notify(user: Any, payload: dict[str, Any]) -> None:
    """Push `payload` to every open /ws/notifications/ socket of `user` (on commit)."""
    user_id = user if isinstance(user, int) else user.pk
    broadcast(user_group(user_id), {"type": "notify", "payload": payload})
