"""Chat reads: rooms with their presence, history pages, the live market beside a room."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from betthat.core.errors import ApplicationError, NotFound
from chat import presence
from chat.models import Message, Room
from edges import selectors as edge_selectors


def room_get(*, slug: str) -> Room:
    room = Room.objects.filter(slug=slug).first()
    if room is None:
        raise NotFound("No such room.")
    return room


def rooms_open(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """The rooms open for messages, the lobby first then by people present, with counts."""
    now = now or timezone.now()
    rooms = list(Room.objects.filter(Q(closed_at__isnull=True) | Q(closed_at__gt=now)))
    counts = presence.counts([r.pk for r in rooms])
    rows: list[dict[str, Any]] = [
        {
            "slug": r.slug,
            "kind": r.kind,
            "title": r.title,
            "event_id": r.event_id,
            "slow_mode_sec": r.slow_mode_sec,
            "closed": r.is_closed(now),
            "present": counts.get(r.pk, 0),
        }
        for r in rooms
    ]
    rows.sort(key=lambda row: (row["kind"] != Room.Kind.LOBBY, -row["present"], row["title"]))
    return rows


def events_without_room(*, limit: int = 20, simulated_only: bool = False) -> list[Any]:
    """Live and upcoming events whose room nobody has opened yet (the lobby links them);
    `simulated_only`: the demo feed's own events (the demo chat talks only there)."""
    taken = set(Room.objects.filter(event_id__isnull=False).values_list("event_id", flat=True))
    events = [
        e
        for status in ("live", "scheduled")
        for e in edge_selectors.event_list(status=status, simulated_only=simulated_only)[: limit * 2]
        if e.pk not in taken
    ]
    return events[:limit]


def event_for_room(*, event_id: int) -> Any:
    event = edge_selectors.event_get(event_id=event_id)
    if event is None:
        raise NotFound("No such event.")
    return event


# --- history -------------------------------------------------------------------------------


def encode_cursor(message: Message) -> str:
    raw = f"{message.ts.isoformat()}|{message.msg_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        ts_text, msg_id = base64.urlsafe_b64decode(padded.encode("ascii")).decode().split("|", 1)
        ts = datetime.fromisoformat(ts_text)
        if ts.tzinfo is None:
            raise ValueError("naive time")
        return ts, uuid.UUID(msg_id)
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise ApplicationError(
            "That cursor is not valid.", code="validation_error", details={"field": "before"}
        ) from exc


@dataclass
class HistoryPage:
    messages: list[Message]  # oldest first
    before: str | None  # the cursor of the next (older) page, None at the start


def history(*, room: Room, before: str | None = None, limit: int | None = None) -> HistoryPage:
    """A page of the room's messages older than `before`, by (ts, msg_id) descending: no gap
    and no duplicate across pages or partitions."""
    limit = limit or settings.CHAT_HISTORY_PAGE
    qs = Message.objects.filter(room=room).select_related("user")
    if before:
        ts, msg_id = decode_cursor(before)
        qs = qs.filter(Q(ts__lt=ts) | Q(ts=ts, msg_id__lt=msg_id))
    rows = list(qs.order_by("-ts", "-msg_id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return HistoryPage(messages=rows[::-1], before=encode_cursor(rows[-1]) if more and rows else None)


# --- the live market beside an event room --------------------------------------------------


def market_panel(*, event: Any, limit: int = 6) -> dict[str, Any]:
    """The event's main lines with each outcome's best price, and its active edges."""
    boards = edge_selectors.event_markets_board(event=event)
    markets = []
    for board in boards[:limit]:
        markets.append(
            {
                "market_id": board.market.pk,
                "name": str(board.market),
                "outcomes": [
                    {
                        "outcome_id": row["outcome"].pk,
                        "name": row["outcome"].name,
                        "best_book": row["best_book"],
                        "best_price": row["best_price"],
                        "fair_odds": row["fair_odds"],
                    }
                    for row in board.rows
                ],
            }
        )
    edges = list(edge_selectors.get_active_edges().filter(event_id=event.pk)[:limit])
    return {"markets": markets, "edges": edges}
