"""Websocket routes of the wallet app."""

from typing import Any

websocket_urlpatterns: list[Any] = []
