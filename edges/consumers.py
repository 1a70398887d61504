"""/ws/odds/: the board and event subscriptions.

Client -> server:
    {"action": "subscribe", "board": {the board's filters: sport, market_type, kind,
     sportsbook, min_edge, min_ev, max_age, status, ordering}}   # the board
    {"action": "subscribe", "events": [12, 13]}                  # quotes and edges of events
    {"action": "unsubscribe", "events": [12]} / {"action": "unsubscribe", "board": true}
    {"action": "ping"}
The board's filters read min_edge / min_ev as the REST API and the board page send them:
fractions (0.02 is 2 %; "2%" works too); add "units": "percent" to send "2" for 2 %. With no sport chosen, the
viewer's favourite sports are the default, as on the page; "sport": "all" is every sport.
Server -> client: {"type": "snapshot", "edges": [...]} after each subscribe (an events
subscription's snapshot also carries "quotes": every current quote of those events), then frames
{"type": "deltas", "deltas": [...]} (one per ingest batch) of typed deltas
{"type": "edge.updated" | "edge.removed" | "quote.updated" | "event.status", "version": v, ...}. Versions only grow per edge / quote, so a client drops any delta older
than what it holds. On reconnect the client subscribes again and gets a fresh snapshot to
reconcile against (rows missing from it are gone).

Bounds per socket (settings): at most ODDS_WS_MAX_EVENTS event subscriptions, of events
that exist; at most ODDS_WS_SUBSCRIBES_PER_MINUTE subscribe messages a minute; frames up to
ODDS_WS_MAX_FRAME_BYTES. A frame that breaks a rule (not JSON, wrong types, unknown action,
too big, too often) gets an error frame `{"type": "error", "error": {code, message,
details}}` and the socket stays open.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Container, Iterable, Sequence
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from betthat.core.hub import HubMember, get_hub
from betthat.users.sockets import SessionBoundConsumerMixin
from edges import realtime, selectors
from edges.forms import EdgeFilterForm
from edges.models import Event

SNAPSHOT_LIMIT = 200
MAX_EVENT_ID = 2**63 - 1
RATE_WINDOW = 60.0
SEEN_MAX = 20_000
logger = logging.getLogger(__name__)


class OddsConsumer(SessionBoundConsumerMixin, HubMember, AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.filters = None
        self.events: set[int] = set()
        self.groups: set[str] = set()
        self.visible: set[str] = set()
        self.sent_versions: dict[str, int] = {}
        self.subscribed_at: deque[float] = deque()
        await self.accept()
        await self.send_json({"type": "hello"})

    async def disconnect(self, code):
        for group in list(getattr(self, "groups", ())):
            await self._leave(group)

    async def _join(self, group: str) -> None:
        if group not in self.groups:
            render = board if group == realtime.BOARD_GROUP else render_event
            await get_hub().join(group, self, render=render)
            self.groups.add(group)

    async def _leave(self, group: str) -> None:
        if group in self.groups:
            self.groups.discard(group)
            await get_hub().leave(group, self)
            if group == realtime.BOARD_GROUP:
                board.evict_unused(in_use=self._board_filters())

    def _board_filters(self) -> set[selectors.EdgeFilters]:
        return {
            consumer.filters
            for consumer in get_hub().sockets(realtime.BOARD_GROUP)
            if isinstance(consumer, OddsConsumer) and consumer.filters is not None
        }

    async def _error(self, code: str, message: str, details: dict | None = None) -> None:
        await self.send_json(
            {"type": "error", "error": {"code": code, "message": message, "details": details or {}}}
        )

    # --- frames ---

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Every frame is answered, none closes the socket: JSON text within the size limit
        goes on to `receive_json`, anything else gets an error frame."""
        limit = settings.ODDS_WS_MAX_FRAME_BYTES
        if text_data is None:
            await self._error("validation_error", "Send JSON in text frames.")
            return
        if len(text_data) > limit or len(text_data.encode()) > limit:
            await self._error("payload_too_large", f"A frame is at most {limit} bytes.", {"max_bytes": limit})
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("validation_error", "A frame is a JSON object.")
            return
        try:
            await self.receive_json(content)
        except Exception:  # a bug must not cost the viewer their live board
            logger.exception("odds socket failed on a frame")
            await self._error("server_error", "That message could not be handled.")

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self._error("validation_error", "Send a JSON object.")
            return
        action = content.get("action")
        handlers = {"subscribe": self._subscribe, "unsubscribe": self._unsubscribe, "ping": self._ping}
        handler = handlers.get(action) if isinstance(action, str) else None
        if handler is None:
            await self._error(
                "validation_error",
                "Unknown action: use subscribe, unsubscribe or ping.",
                {"action": action if isinstance(action, (str, int, float, bool)) else None},
            )
            return
        await handler(content)

    async def _ping(self, content: dict[str, Any]) -> None:
        await self.send_json({"type": "pong", "server_time": time.time()})

    # --- subscriptions ---

    def _allow_subscribe(self) -> bool:
        now = time.monotonic()
        while self.subscribed_at and now - self.subscribed_at[0] > RATE_WINDOW:
            self.subscribed_at.popleft()
        if len(self.subscribed_at) >= settings.ODDS_WS_SUBSCRIBES_PER_MINUTE:
            return False
        self.subscribed_at.append(now)
        return True

    async def _subscribe(self, content: dict[str, Any]) -> None:
        if "board" not in content and "events" not in content:
            await self._error("validation_error", "subscribe needs board or events.")
            return
        if not self._allow_subscribe():
            limit = settings.ODDS_WS_SUBSCRIBES_PER_MINUTE
            retry = RATE_WINDOW - (time.monotonic() - self.subscribed_at[0])
            await self._error(
                "rate_limited",
                f"At most {limit} subscribe messages a minute.",
                {"limit": limit, "retry_after_seconds": max(1, round(retry))},
            )
            return
        if "board" in content:
            await self._subscribe_board(content.get("board"), content.get("units", "fraction"))
        if "events" in content:
            await self._subscribe_events(content.get("events"))

    async def _subscribe_board(self, board: Any, units: Any) -> None:
        if board is not None and not isinstance(board, dict):
            await self._error("validation_error", "board is an object of filters.")
            return
        if units not in ("percent", "fraction"):
            await self._error("validation_error", 'units is "percent" or "fraction".', {"units": None})
            return
        form = EdgeFilterForm(board or {}, percent=units == "percent")
        if not form.is_valid():
            await self._error(
                "validation_error", "The board filters are not valid.", form.errors.get_json_data()
            )
            return
        self.filters = form.to_filters(favourite_sports=selectors.favourite_sports(user=self.scope["user"]))
        await self._join(realtime.BOARD_GROUP)
        edges = await database_sync_to_async(self._snapshot)(self.filters)
        self.visible = {e["edge_id"] for e in edges}
        self.sent_versions.update({e["edge_id"]: e["version"] for e in edges})
        await self.send_json(
            {"type": "snapshot", "scope": "board", "edges": edges, "server_time": time.time()}
        )

    async def _subscribe_events(self, ids: Any) -> None:
        cap = settings.ODDS_WS_MAX_EVENTS
        if not _event_ids(ids):
            await self._error("validation_error", f"events is a list of up to {cap} event ids.", {"max": cap})
            return
        wanted = set(ids)
        if len(self.events | wanted) > cap:
            await self._error(
                "too_many_subscriptions",
                f"A socket follows at most {cap} events; unsubscribe from some first.",
                {"max": cap, "subscribed": len(self.events)},
            )
            return
        unknown = wanted - await database_sync_to_async(_existing_events)(wanted)
        if unknown:
            await self._error("not_found", "No such events.", {"events": sorted(unknown)})
            return
        for event_id in ids:
            self.events.add(event_id)
            await self._join(realtime.event_group(event_id))
        edges, quotes = await database_sync_to_async(self._event_snapshot)(ids)
        self.visible.update(e["edge_id"] for e in edges)
        await self.send_json(
            {"type": "snapshot", "scope": "events", "events": ids, "edges": edges, "quotes": quotes}
        )

    async def _unsubscribe(self, content: dict[str, Any]) -> None:
        ids = content.get("events", [])
        if not _event_ids(ids, limit=None):
            await self._error("validation_error", "events is a list of event ids.")
            return
        if content.get("board"):
            self.filters = None
            await self._leave(realtime.BOARD_GROUP)
        for event_id in ids:
            self.events.discard(event_id)
            await self._leave(realtime.event_group(event_id))

    @staticmethod
    def _snapshot(filters) -> list[dict]:
        return [realtime.edge_to_dict(e) for e in selectors.search_edges(filters=filters)[:SNAPSHOT_LIMIT]]

    @staticmethod
    def _event_snapshot(ids: list[int]) -> tuple[list[dict], list[dict]]:
        """The events' active edges and every current quote: a page rendered before the
        subscription took effect catches up on the prices that moved in between."""
        filters = selectors.EdgeFilters(status="active")
        edges = [
            realtime.edge_to_dict(e)
            for e in selectors.search_edges(filters=filters).filter(event_id__in=ids)[:SNAPSHOT_LIMIT]
        ]
        quotes = [
            realtime.quote_dict(
                outcome_id=outcome_id,
                market_id=market_id,
                sportsbook=book,
                price=price,
                version=version,
                suspended=suspended,
            )
            for outcome_id, market_id, book, price, version, suspended in selectors.event_quote_rows(
                event_ids=ids
            )
        ]
        return edges, quotes

    def event_deltas(self, deltas: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The deltas of an event topic this socket takes: edges of the events it follows
        that are newer than what it was sent (a snapshot may already hold them); quotes and
        status changes always."""
        out = []
        for delta in deltas:
            kind = delta["type"]
            if kind in ("edge.updated", "edge.removed"):
                edge = delta["edge"]
                if (
                    edge["event_id"] not in self.events
                    or self.sent_versions.get(edge["edge_id"], -1) >= delta["version"]
                ):
                    continue
                self._remember(edge["edge_id"], delta["version"], visible=kind == "edge.updated")
                out.append(delta)
            elif kind in ("quote.updated", "event.status"):
                out.append(delta)
        return out

    def _remember(self, edge_id: str, version: int, *, visible: bool) -> None:
        if len(self.sent_versions) > SEEN_MAX:
            self.sent_versions.clear()
        if len(self.visible) > SEEN_MAX:
            self.visible.clear()
        self.sent_versions[edge_id] = version
        if visible:
            self.visible.add(edge_id)
        else:
            self.visible.discard(edge_id)


def render_event(text: str, consumers: Sequence[HubMember]) -> Iterable[tuple[str, Iterable[HubMember]]]:
    """An event topic's batch: decoded once; the sockets that take every delta (nearly all:
    only one that was just sent a snapshot holding some of them differs) share one frame."""
    message = json.loads(text)
    deltas, at = message["deltas"], message.get("at")
    shared: list[HubMember] = []
    for consumer in consumers:
        if not isinstance(consumer, OddsConsumer):
            continue
        out = consumer.event_deltas(deltas)
        if len(out) == len(deltas):
            shared.append(consumer)
        elif out:
            yield json.dumps({"type": "deltas", "at": at, "deltas": out}, separators=(",", ":")), [consumer]
    if shared:
        yield json.dumps({"type": "deltas", "at": at, "deltas": deltas}, separators=(",", ":")), shared


class BoardFrames:
    """The board's view of each batch, once per filter set: the hub reads each batch once per
    process, this decodes it once, builds one frame per filter set in use and hands it to
    every board socket with those filters. Two hundred sockets then cost one Redis read, one
    decode and a frame per distinct filter set, not two hundred."""

    def __init__(self) -> None:
        self.visible: dict[selectors.EdgeFilters, set[str]] = {}

    def __call__(
        self, text: str, consumers: Sequence[HubMember]
    ) -> Iterable[tuple[str, Iterable[HubMember]]]:
        batch = json.loads(text)
        deltas = batch["deltas"]
        now_ts = time.time()
        by_filters: dict[selectors.EdgeFilters, list[HubMember]] = {}
        for consumer in consumers:
            if isinstance(consumer, OddsConsumer) and consumer.filters is not None:
                by_filters.setdefault(consumer.filters, []).append(consumer)
        # the filter sets in use are by_filters' keys: no second pass over the sockets
        self.evict_unused(in_use=by_filters)
        frames = []
        for filters, members in by_filters.items():
            frame = self._frame(filters, deltas, now_ts, batch["at"])
            if frame is not None:
                frames.append((frame, members))
        return frames

    def _frame(self, filters, deltas: list[dict], now_ts: float, at: float) -> str | None:
        """The deltas one filter set sees, as one encoded frame shared by its sockets. An
        edge that stops matching (went stale, EV fell) is sent as removed."""
        visible = self.visible.setdefault(filters, set())
        out = []
        for delta in deltas:
            if delta["type"] not in ("edge.updated", "edge.removed"):
                continue
            edge = delta["edge"]
            edge_id = edge["edge_id"]
            if delta["type"] == "edge.updated" and selectors.edge_matches(edge, filters, now_ts=now_ts):
                visible.add(edge_id)
                out.append(delta)
            elif delta["type"] == "edge.removed":
                visible.discard(edge_id)
                out.append(delta)
            elif edge_id in visible:
                visible.discard(edge_id)
                out.append(
                    {
                        "type": "edge.removed",
                        "version": delta["version"],
                        "edge_id": edge_id,
                        "event_id": edge["event_id"],
                        "reason": "filtered",
                        "edge": edge,
                    }
                )
        if len(visible) > 50_000:
            visible.clear()
        if not out:
            return None
        return json.dumps({"type": "deltas", "at": at, "deltas": out}, separators=(",", ":"))

    def evict_unused(self, in_use: Container[selectors.EdgeFilters]) -> None:
        """Per-filter state lives only while a socket uses that filter set, so the memory is
        bounded by the sockets, not by every filter ever asked for."""
        for filters in [f for f in self.visible if f not in in_use]:
            del self.visible[filters]


board = BoardFrames()


def _event_ids(value: Any, *, limit: int | None = -1) -> bool:
    """A list of event ids: whole numbers (not booleans) in the id range, at most `limit`
    of them (the setting by default, None for no cap)."""
    cap = settings.ODDS_WS_MAX_EVENTS if limit == -1 else limit
    return (
        isinstance(value, list)
        and (cap is None or len(value) <= cap)
        and all(type(i) is int and 1 <= i <= MAX_EVENT_ID for i in value)
    )


def _existing_events(ids: set[int]) -> set[int]:
    return set(Event.objects.filter(pk__in=ids).values_list("pk", flat=True))
