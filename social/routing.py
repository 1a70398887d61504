"""Websocket routes of the social app."""

from django.urls import path

from social.consumers import FeedConsumer

websocket_urlpatterns: list = [path("ws/social/", FeedConsumer.as_asgi())]
