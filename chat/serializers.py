"""How a message looks to clients: one shape for socket frames, the API and the pages."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from chat.models import Message, Room


def message_state(message: Message) -> str:
    if message.flags.get("deleted"):
        return "deleted"
    if message.flags.get("hidden"):
        return "hidden"
    return "visible"


def presence_summary(room_id: int) -> dict[str, Any]:
    """Who is in the room now: {"count": n, "users": [{"id", "name"}]}."""
    from betthat.users.models import User
    from chat import presence

    ids = presence.user_ids(room_id)
    users = [{"id": u.pk, "name": u.display_name} for u in User.objects.filter(pk__in=ids).order_by("pk")]
    return {"count": len(users), "users": users}


def message_frame(message: Message, *, user: Any = None, room: Room | None = None) -> dict[str, Any]:
    """The public form of a message. A hidden or deleted message keeps its place as a
    tombstone: no text, no attachment."""
    author = user if user is not None else message.user
    room = room if room is not None else message.room
    state = message_state(message)
    visible = state == "visible"
    return {
        "message": {
            "id": str(message.msg_id),
            "ts": message.ts.isoformat(),
            "room": room.slug,
            "user": {"id": author.pk, "name": author.display_name},
            "text": message.text if visible else None,
            "state": state,
            "reactions": dict(message.reactions) if visible else {},
            "attachment": message.attachment if visible else None,
        }
    }


class MessageUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MessageSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    ts = serializers.DateTimeField()
    room = serializers.CharField()
    user = MessageUserSerializer()
    text = serializers.CharField(allow_null=True)
    state = serializers.ChoiceField(choices=["visible", "hidden", "deleted"])
    reactions = serializers.DictField(child=serializers.IntegerField())
    attachment = serializers.DictField(allow_null=True)


class RoomSerializer(serializers.Serializer):
    slug = serializers.CharField()
    kind = serializers.CharField()
    title = serializers.CharField()
    event_id = serializers.IntegerField(allow_null=True)
    slow_mode_sec = serializers.IntegerField()
    closed = serializers.BooleanField()
    present = serializers.IntegerField(help_text="Users in the room now.")
