"""Websocket routes of the edges app."""

from django.urls import path

from edges.consumers import OddsConsumer

websocket_urlpatterns: list = [path("ws/odds/", OddsConsumer.as_asgi())]
