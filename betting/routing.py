"""Websocket routes of the betting app."""

websocket_urlpatterns: list = []
