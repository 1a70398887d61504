"""Frames to a room's sockets, through the project's realtime path (after commit).

Each frame gets the room's next sequence number when it leaves, so sockets receive them in
order and a client that sees a gap (a lost frame, a reconnect) reloads the history."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from betthat.core import realtime as core_realtime
from chat import presence


def room_group(room_id: int) -> str:
    return f"chat.room.{room_id}"


def send_now(room_id: int, kind: str, body: dict[str, Any]) -> None:
    frame = {"type": kind, "seq": presence.next_seq(room_id), **body}
    # the process's one sender loop keeps frames in the order their numbers were taken
    core_realtime.broadcast_many(
        [(room_group(room_id), {"type": "chat.frame", "frame": frame})], on_commit=False
    )


def send_on_commit(room_id: int, kind: str, body: dict[str, Any]) -> None:
    transaction.on_commit(lambda: send_now(room_id, kind, body))
