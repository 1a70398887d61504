"""Websocket routes of the chat app."""

from django.urls import re_path

from chat.consumers import ChatConsumer

websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<room>[-a-zA-Z0-9_]{1,80})/$", ChatConsumer.as_asgi()),
]
