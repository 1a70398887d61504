"""Live feed frames on /ws/social/: each follower's open feed pages are in the group
`social.feed.<user id>`. Sent after the transaction commits, all sends of a batch in one
event loop (one `async_to_sync` per follower would cost milliseconds each)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def feed_group(user_id: int) -> str:
    return f"social.feed.{user_id}"


def _send_all(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def send() -> None:
        results = await asyncio.gather(
            *(layer.group_send(group, message) for group, message in messages), return_exceptions=True
        )
        for result in results:
            if isinstance(result, Exception):
                logger.warning("social feed push failed: %r", result)

    try:
        async_to_sync(send)()
    except Exception:  # realtime is best effort; the feed page reads the database
        logger.exception("social feed push failed")


def push_on_commit(messages: Iterable[tuple[int, dict]]) -> None:
    """Send each (follower id, message) once the current transaction commits. A message
    carries "type" naming the consumer handler (feed.item, feed.update, feed.remove)."""
    batch = [(feed_group(user_id), message) for user_id, message in messages]
    if batch:
        transaction.on_commit(lambda: _send_all(batch))
