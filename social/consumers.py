"""/ws/social/: the live feed. A socket joins its user's feed topic on the hub and only
receives; what it is sent was rendered by `social.presenters` (the stake rules applied) and
goes out as published: {"type": "feed.item" | "feed.update", "item": ...} or
{"type": "feed.remove", "handle": ...}."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from betthat.core.hub import HubMember, get_hub
from betthat.users.sockets import SessionBoundConsumerMixin
from social.push import feed_group


class FeedConsumer(SessionBoundConsumerMixin, HubMember, AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = feed_group(user.pk)
        await get_hub().join(self.group, self)
        await self.accept()
        await self.send_json({"type": "hello"})

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await get_hub().leave(self.group, self)

    async def receive_json(self, content, **kwargs):
        pass  # the feed socket only receives
