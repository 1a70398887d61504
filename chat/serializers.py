"""How a message looks to clients: one shape for socket frames, the API and the pages."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from betthat.users.selectors import user_public_names
from chat.models import Message, Room


def message_state(message: Message) -> str:
    if message.flags.get("deleted"):
        return "deleted"
    if message.flags.get("hidden"):
        return "hidden"
    return "visible"


def presence_summary(room_id: int) -> dict[str, Any]:
    """Who is in the room now: {"count": n, "users": [{"id", "name"}]}, each name public
    (a handle or an anonymous label: `user_public_names`)."""
    from betthat.users.models import User
    from chat import presence

    ids = list(
        User.objects.filter(pk__in=presence.user_ids(room_id)).order_by("pk").values_list("pk", flat=True)
    )
    names = user_public_names(user_ids=ids)
    users = [{"id": pk, "name": names[pk]} for pk in ids]
    return {"count": len(users), "users": users}


def message_frames(messages: list[Message], *, room: Room | None = None) -> list[dict[str, Any]]:
    """The public form of each message (`message_frame(...)["message"]`), the authors' names
    read in one query."""
    names = user_public_names(user_ids=[m.user_id for m in messages])
    return [message_frame(m, room=room, names=names)["message"] for m in messages]


def message_frame(
    message: Message, *, user: Any = None, room: Room | None = None, names: dict[int, str] | None = None
) -> dict[str, Any]:
    """The public form of a message. A hidden or deleted message keeps its place as a
    tombstone: no text, no attachment. The author is named by their public name (handle or
    anonymous label), never by anything from their email; `names` saves the lookup."""
    author_id = user.pk if user is not None else message.user_id
    room = room if room is not None else message.room
    if names is None or author_id not in names:
        names = user_public_names(user_ids=[author_id])
    state = message_state(message)
    visible = state == "visible"
    return {
        "message": {
            "id": str(message.msg_id),
            "ts": message.ts.isoformat(),
            "room": room.slug,
            "user": {"id": author_id, "name": names[author_id]},
            "text": message.text if visible else None,
            "state": state,
            "reactions": dict(message.reactions) if visible else {},
            "attachment": message.attachment if visible else None,
        }
    }


class MessageUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(
        help_text='The public handle ("@handle") or an anonymous label ("Bettor 4F2A9C").'
    )


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
