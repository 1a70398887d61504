"""Websocket routes of the social app."""

websocket_urlpatterns: list = []
