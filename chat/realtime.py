"""Frames to a room's sockets, through the project's one realtime path (betthat.core.realtime
and each process's hub, betthat.core.hub).

Every frame is numbered: it carries the room topic's next `seq`, taken and published in one
Redis step, so every socket in every process receives a room's frames in one order and a
client that sees a gap (a lost frame) reconnects and gets a fresh hello."""

from __future__ import annotations

from typing import Any

from betthat.core import realtime as core_realtime


def room_group(room_id: int) -> str:
    """The hub topic of a room's sockets."""
    return f"chat.room.{room_id}"


def current_seq(room_id: int) -> int:
    """The number of the room's last frame (a hello carries it)."""
    return core_realtime.sequence(room_group(room_id))


def send_now(room_id: int, kind: str, body: dict[str, Any]) -> None:
    """A frame to the room now (presence, typing: nothing to commit)."""
    core_realtime.publish(room_group(room_id), {"type": kind, **body}, numbered=True, on_commit=False)


def send_on_commit(room_id: int, kind: str, body: dict[str, Any]) -> None:
    send_many_on_commit([(room_id, kind, body)])


def send_many_on_commit(frames: list[tuple[int, str, dict[str, Any]]]) -> None:
    """Frames to rooms once the current transaction commits, in the order given."""
    core_realtime.publish_many(
        ((room_group(room_id), {"type": kind, **body}) for room_id, kind, body in frames), numbered=True
    )
