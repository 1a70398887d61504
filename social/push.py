"""Live feed frames on /ws/social/: each follower's open feed pages are on the hub topic
`social.feed.<user id>`. Published after the transaction commits through the project's one
realtime path (betthat.core.realtime): a batch is one hand-off and one Redis pipeline."""

from __future__ import annotations

from collections.abc import Iterable

from betthat.core import realtime


def feed_group(user_id: int) -> str:
    """The hub topic of a user's open feed pages."""
    return f"social.feed.{user_id}"


def push_on_commit(messages: Iterable[tuple[int, dict]]) -> None:
    """Send each (follower id, frame) once the current transaction commits. A frame carries
    "type" (feed.item, feed.update, feed.remove) and goes to the socket as it is."""
    realtime.publish_many((feed_group(user_id), message) for user_id, message in messages)
