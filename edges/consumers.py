"""/ws/odds/: the board and event subscriptions.

Client -> server:
    {"action": "subscribe", "board": {filters as the API: sport, market_type, kind,
     sportsbook, min_edge, min_ev, max_age, status}}           # the board
    {"action": "subscribe", "events": [12, 13]}                  # quotes and edges of events
    {"action": "unsubscribe", "events": [12]}
Server -> client: {"type": "snapshot", "edges": [...]} after each subscribe, then frames
{"type": "deltas", "deltas": [...]} (one per ingest batch) of typed deltas
{"type": "edge.updated" | "edge.removed" | "quote.updated" | "event.status", "version": v, ...}. Versions only grow per edge / quote, so a client drops any delta older
than what it holds. On reconnect the client subscribes again and gets a fresh snapshot to
reconcile against (rows missing from it are gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from betthat.core import redis as bt_redis
from betthat.core.channel_layer import cancellation_requested
from edges import realtime, selectors
from edges.forms import EdgeFilterForm

SNAPSHOT_LIMIT = 200
MAX_EVENTS = 50
logger = logging.getLogger(__name__)


class OddsConsumer(AsyncJsonWebsocketConsumer):
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
        await self.accept()
        await self.send_json({"type": "hello"})

    async def disconnect(self, code):
        hub.leave(self)
        for group in list(getattr(self, "groups", ())):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _join(self, group: str) -> None:
        if group not in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups.add(group)

    async def _leave(self, group: str) -> None:
        if group in self.groups:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.groups.discard(group)

    async def _error(self, code: str, message: str, details: dict | None = None) -> None:
        await self.send_json(
            {"type": "error", "error": {"code": code, "message": message, "details": details or {}}}
        )

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self._error("validation_error", "Send a JSON object.")
            return
        action = content.get("action")
        if action == "subscribe":
            if "board" in content:
                form = EdgeFilterForm(content.get("board") or {})
                if not form.is_valid():
                    await self._error(
                        "validation_error", "The board filters are not valid.", form.errors.get_json_data()
                    )
                    return
                self.filters = form.to_filters()
                await hub.join(self)
                edges = await database_sync_to_async(self._snapshot)(self.filters)
                self.visible = {e["edge_id"] for e in edges}
                self.sent_versions.update({e["edge_id"]: e["version"] for e in edges})
                await self.send_json(
                    {"type": "snapshot", "scope": "board", "edges": edges, "server_time": time.time()}
                )
            if "events" in content:
                ids = content.get("events")
                if (
                    not isinstance(ids, list)
                    or not all(isinstance(i, int) for i in ids)
                    or len(ids) > MAX_EVENTS
                ):
                    await self._error(
                        "validation_error", f"events is a list of up to {MAX_EVENTS} event ids."
                    )
                    return
                for event_id in ids:
                    self.events.add(event_id)
                    await self._join(realtime.event_group(event_id))
                edges = await database_sync_to_async(self._event_snapshot)(ids)
                self.visible.update(e["edge_id"] for e in edges)
                await self.send_json({"type": "snapshot", "scope": "events", "events": ids, "edges": edges})
            if "board" not in content and "events" not in content:
                await self._error("validation_error", "subscribe needs board or events.")
        elif action == "unsubscribe":
            if content.get("board") is not None:
                self.filters = None
                hub.leave(self)
            for event_id in content.get("events") or []:
                if isinstance(event_id, int):
                    self.events.discard(event_id)
                    await self._leave(realtime.event_group(event_id))
        elif action == "ping":
            await self.send_json({"type": "pong", "server_time": time.time()})
        else:
            await self._error("validation_error", "Unknown action.", {"action": action})

    @staticmethod
    def _snapshot(filters) -> list[dict]:
        return [realtime.edge_to_dict(e) for e in selectors.search_edges(filters=filters)[:SNAPSHOT_LIMIT]]

    @staticmethod
    def _event_snapshot(ids: list[int]) -> list[dict]:
        filters = selectors.EdgeFilters(status="active")
        return [
            realtime.edge_to_dict(e)
            for e in selectors.search_edges(filters=filters).filter(event_id__in=ids)[:SNAPSHOT_LIMIT]
        ]

    async def odds_deltas(self, message):
        """Deltas of the events this socket subscribed to (its own group membership), as
        one frame per batch."""
        out = []
        for delta in message["deltas"]:
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
        if out:
            await self.send_json({"type": "deltas", "at": message.get("at"), "deltas": out})

    def _remember(self, edge_id: str, version: int, *, visible: bool) -> None:
        if len(self.sent_versions) > 20_000:
            self.sent_versions.clear()
        self.sent_versions[edge_id] = version
        if visible:
            self.visible.add(edge_id)
        else:
            self.visible.discard(edge_id)


class BoardHub:
    """Per-process fan-out of the board: one Redis pub/sub subscription per ASGI process
    receives each batch once (published JSON-encoded once by the ingest), decodes it once,
    encodes each delta once, and hands it to every board socket of the process. Two
    hundred sockets then cost one Redis read and one decode per batch, not two hundred."""

    def __init__(self) -> None:
        self.subscribers: set[OddsConsumer] = set()
        self.visible: dict = {}
        self.task: asyncio.Task | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def join(self, consumer: OddsConsumer) -> None:
        self.subscribers.add(consumer)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.loop is not loop:
            ready = asyncio.Event()
            self.loop = loop
            self.task = loop.create_task(self._listen(ready))
            await asyncio.wait_for(ready.wait(), timeout=10)

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

    def leave(self, consumer: OddsConsumer) -> None:
        self.subscribers.discard(consumer)
        if not self.subscribers and self.task is not None:
            self.task.cancel()
            self.task = None

    async def _listen(self, ready: asyncio.Event) -> None:
        client = bt_redis.async_client()
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(realtime.board_channel())
            ready.set()
            while True:
                message = await pubsub.get_message(timeout=30)
                if cancellation_requested():  # lost by Python 3.11 (see core/channel_layer.py)
                    raise asyncio.CancelledError
                if message is None:
                    continue
                batch = json.loads(message["data"])
                deltas = batch["deltas"]
                now_ts = time.time()
                by_filters: dict = {}
                for consumer in list(self.subscribers):
                    if consumer.filters is not None:
                        by_filters.setdefault(consumer.filters, []).append(consumer)
                for filters, consumers in by_filters.items():
                    frame = self._frame(filters, deltas, now_ts, batch["at"])
                    if frame is None:
                        continue
                    for consumer in consumers:
                        try:
                            await consumer.send(text_data=frame)
                        except Exception:
                            logger.warning("odds hub delivery failed", exc_info=True)
        finally:
            ready.set()
            # Bounded: this runs while the task is being cancelled (last subscriber gone, or
            # the event loop closing), and a close that never returns would hang that loop.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.aclose(), timeout=2)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.aclose(), timeout=2)


hub = BoardHub()
