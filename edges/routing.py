"""Websocket routes of the edges app."""

websocket_urlpatterns: list = []
