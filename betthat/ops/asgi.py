"""ASGI middleware that counts open websocket connections for the metrics."""

from __future__ import annotations

from typing import Any

from betthat.ops.metrics import WEBSOCKET_CONNECTIONS

Scope = dict[str, Any]


class WebsocketMetricsMiddleware:
    """Counts a websocket from its accept until its consumer ends, by URL path (the socket
    paths are a fixed few: /ws/odds/, /ws/chat/<room>/ is folded to /ws/chat/)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        if scope.get("type") != "websocket":
            return await self.app(scope, receive, send)
        label = _path_label(scope.get("path", ""))
        accepted = False

        async def counting_send(message: dict[str, Any]) -> None:
            nonlocal accepted
            await send(message)
            if message.get("type") == "websocket.accept" and not accepted:
                accepted = True
                WEBSOCKET_CONNECTIONS.labels(path=label).inc()

        try:
            return await self.app(scope, receive, counting_send)
        finally:
            if accepted:
                WEBSOCKET_CONNECTIONS.labels(path=label).dec()


def _path_label(path: str) -> str:
    parts = [part for part in path.split("/") if part]
    return "/" + "/".join(parts[:2]) + "/" if parts else "/"
