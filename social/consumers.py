"""/ws/social/: the live feed. A socket joins its user's feed group and only receives;
what it is sent was rendered by `social.presenters` (the stake rules applied)."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from betthat.users.sockets import SessionBoundConsumerMixin
from social.push import feed_group


class FeedConsumer(SessionBoundConsumerMixin, AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = feed_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello"})

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        pass  # the feed socket only receives

    async def feed_item(self, event):
        await self.send_json({"type": "feed.item", "item": event["item"]})

    async def feed_update(self, event):
        await self.send_json({"type": "feed.update", "item": event["item"]})

    async def feed_remove(self, event):
        await self.send_json({"type": "feed.remove", "handle": event["handle"]})
