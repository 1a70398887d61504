"""Chat: rooms, messages (partitioned by time in PostgreSQL), reactions, reports and mutes.

`Message` is the seed's record (room_id, ts, msg_id, user_id, text, reactions, flags). Its
table is range-partitioned on `ts` (see migrations/0001 and `chat.partitions`), so the
primary key is the pair (msg_id, ts) and nothing can hold a foreign key to a message:
reactions and reports name the message by that pair.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from betthat.core.models import TimeStampedModel

# The fixed set of reactions a message can get (label for screen readers beside each).
REACTIONS: dict[str, str] = {
    "👍": "thumbs up",
    "🔥": "fire",
    "😂": "laughing",
    "😮": "surprised",
    "💰": "money bag",
    "🎯": "on target",
}


class Room(TimeStampedModel):
    class Kind(models.TextChoices):
        LOBBY = "lobby", "Lobby"
        EVENT = "event", "Event"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    # The event of an event room (edges.Event, referenced by id: chat reads edges through
    # its selectors only).
    event_id = models.BigIntegerField(null=True, blank=True, unique=True)
    slow_mode_sec = models.PositiveIntegerField(
        default=0, help_text="Seconds between two messages of one user."
    )
    closed_at = models.DateTimeField(null=True, blank=True, help_text="No new messages after this time.")

    class Meta:
        ordering = ["kind", "title"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="lobby", event_id__isnull=True)
                | models.Q(kind="event", event_id__isnull=False),
                name="chat_room_event_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def is_closed(self, now=None) -> bool:
        return self.closed_at is not None and self.closed_at <= (now or timezone.now())


class Message(models.Model):
    """One chat line. `flags`: {"hidden": true} (staff), {"deleted": true} (author),
    {"reports": n} (user reports); a message with hidden or deleted is shown as a tombstone."""

    pk = models.CompositePrimaryKey("msg_id", "ts")
    msg_id = models.UUIDField(default=uuid.uuid4)
    ts = models.DateTimeField(default=timezone.now)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=500)
    reactions = models.JSONField(default=dict, blank=True)  # {"👍": 3, ...}
    flags = models.JSONField(default=dict, blank=True)
    # A shared bet or edge, as a card: {"kind": "bet"|"edge", ...figures at share time}.
    attachment = models.JSONField(null=True, blank=True)

    class Meta:
        managed = True
        ordering = ["-ts", "-msg_id"]
        indexes = [models.Index(fields=["room", "-ts", "-msg_id"], name="chat_msg_room_ts_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.room_id}: {self.text[:40]}"

    @property
    def is_visible(self) -> bool:
        return not (self.flags.get("hidden") or self.flags.get("deleted"))


class MessageKey(models.Model):
    """A client's id for a message, so a retried send stores the message once. Kept apart
    from the partitioned table, where a unique index would have to include `ts`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    client_id = models.CharField(max_length=64)
    msg_id = models.UUIDField()
    ts = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "client_id"], name="chat_msgkey_user_client_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.client_id}"


class Reaction(models.Model):
    """Who reacted how: one row per (message, user, emoji), so a reaction toggles once."""

    msg_id = models.UUIDField()
    ts = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=8)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["msg_id", "user", "emoji"], name="chat_reaction_once"),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id}"


class Report(models.Model):
    """A user's report of a message: the staff moderation queue."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        HIDDEN = "hidden", "Message hidden"
        DISMISSED = "dismissed", "Dismissed"

    msg_id = models.UUIDField()
    ts = models.DateTimeField()
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=500, help_text="The message as reported.")
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["status", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["msg_id", "reporter"], name="chat_report_once"),
        ]
        permissions = [("moderate_chat", "Can hide and restore chat messages and mute users")]

    def __str__(self) -> str:
        return f"report on {self.msg_id}"


class Mute(models.Model):
    """A user muted in one room (or everywhere when `room` is empty) until a time."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    until = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-until"]
        indexes = [models.Index(fields=["user", "until"], name="chat_mute_user_until_idx")]

    def __str__(self) -> str:
        return f"mute {self.user_id} until {self.until:%Y-%m-%d %H:%M}"
