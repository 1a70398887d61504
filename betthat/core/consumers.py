from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from betthat.core.realtime import user_group
from betthat.users.sockets import SessionBoundConsumerMixin


class NotificationConsumer(SessionBoundConsumerMixin, AsyncJsonWebsocketConsumer):
    """/ws/notifications/: one socket per tab, joined to the user's own group only."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user_id": user.pk})

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def notify(self, event):
        await self.send_json({"type": "notification", "payload": event["payload"]})
