"""Websocket routes of the wallet app."""

websocket_urlpatterns: list = []
