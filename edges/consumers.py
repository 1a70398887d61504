"""/ws/odds/: the board and event subscriptions.

Client -> server:
    {"action": "subscribe", "board": {filters as the API: sport, market_type, kind,
     sportsbook, min_edge, min_ev, max_age, status}}           # the board
    {"action": "subscribe", "events": [12, 13]}                  # quotes and edges of events
    {"action": "unsubscribe", "events": [12]}
Server -> client: {"type": "snapshot", "edges": [...], "version": v} after each subscribe,
then deltas {"type": "edge.updated" | "edge.removed" | "quote.updated" | "event.status",
"version": v, ...}. Versions only grow per edge / quote, so a client drops any delta older
than what it holds. On reconnect the client subscribes again and gets a fresh snapshot to
reconcile against (rows missing from it are gone).
"""

from __future__ import annotations

import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from edges import realtime, selectors
from edges.forms import EdgeFilterForm

SNAPSHOT_LIMIT = 200
MAX_EVENTS = 50


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
                await self._join(realtime.BOARD_GROUP)
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
                await self._leave(realtime.BOARD_GROUP)
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
        """One channel-layer message per batch; forward what this socket subscribed to."""
        now_ts = time.time()
        board = self.filters
        for delta in message["deltas"]:
            kind = delta["type"]
            if kind in ("edge.updated", "edge.removed"):
                edge = delta["edge"]
                edge_id = edge["edge_id"]
                if self.sent_versions.get(edge_id, -1) >= delta["version"]:
                    continue  # already sent (board and event group both carry it)
                wanted = edge["event_id"] in self.events or (
                    board is not None
                    and (kind == "edge.removed" or selectors.edge_matches(edge, board, now_ts=now_ts))
                )
                if not wanted:
                    if edge_id in self.visible:  # it left the filter (stale, EV fell): drop it
                        self.visible.discard(edge_id)
                        await self.send_json(
                            {
                                "type": "edge.removed",
                                "version": delta["version"],
                                "edge_id": edge_id,
                                "event_id": edge["event_id"],
                                "reason": "filtered",
                                "edge": edge,
                            }
                        )
                    continue
                if (
                    kind == "edge.removed"
                    and edge_id not in self.visible
                    and edge["event_id"] not in self.events
                ):
                    continue
                self._remember(edge_id, delta["version"], visible=kind == "edge.updated")
                await self.send_json(delta)
            elif kind in ("quote.updated", "event.status"):
                await self.send_json(delta)

    def _remember(self, edge_id: str, version: int, *, visible: bool) -> None:
        if len(self.sent_versions) > 20_000:
            self.sent_versions.clear()
        self.sent_versions[edge_id] = version
        if visible:
            self.visible.add(edge_id)
        else:
            self.visible.discard(edge_id)
