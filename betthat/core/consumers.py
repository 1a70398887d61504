from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from betthat.core.hub import HubMember, get_hub
from betthat.core.realtime import user_group
from betthat.users.sockets import SessionBoundConsumerMixin


class NotificationConsumer(SessionBoundConsumerMixin, HubMember, AsyncJsonWebsocketConsumer):
    """/ws/notifications/: one socket per tab, on the user's own topic only (the hub)."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.topic = user_group(user.pk)
        await get_hub().join(self.topic, self)
        await self.accept()
        await self.send_json({"type": "hello", "user_id": user.pk})

    async def disconnect(self, code):
        if hasattr(self, "topic"):
            await get_hub().leave(self.topic, self)
