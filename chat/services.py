"""Chat writes: rooms, messages, reactions, reports and moderation.

Every way in (the socket, the API, the admin, the demo) calls these, so the same checks hold
everywhere: who may write, the text rules, the rate limit and slow mode, mutes, idempotent
sends. A stored message leaves as a `chat.message` outbox event and as a frame to the room's
sockets once the transaction commits.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from betthat.core import outbox
from betthat.core import realtime as core_realtime
from betthat.core.audit import audit_append
from betthat.core.db import binding_cursor
from betthat.core.errors import ApplicationError, NotFound, PermissionDenied
from betthat.users.models import User
from betthat.users.selectors import user_public_name, user_public_names
from betthat.users.timezones import zone_for
from chat import limits, links, presence, realtime, selectors
from chat.models import REACTIONS, Message, MessageKey, Mute, Reaction, Report, Room
from chat.serializers import message_frame

MAX_TEXT = 500
_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


# --- rooms -------------------------------------------------------------------------------


def room_lobby() -> Room:
    room, _ = Room.objects.get_or_create(slug="lobby", defaults={"kind": Room.Kind.LOBBY, "title": "Lobby"})
    return room


def room_for_event(*, event_id: int, title: str, finished_at: datetime | None = None) -> Room:
    """The event's room, created on first use; closed CHAT_ROOM_CLOSE_AFTER_HOURS after the
    event finished (`finished_at`, from edges' selectors)."""
    room, _ = Room.objects.get_or_create(
        event_id=event_id,
        defaults={"kind": Room.Kind.EVENT, "slug": f"event-{event_id}", "title": title[:200]},
    )
    if finished_at is not None and room.closed_at is None:
        room.closed_at = finished_at + timedelta(hours=settings.CHAT_ROOM_CLOSE_AFTER_HOURS)
        room.save(update_fields=["closed_at", "updated_at"])
    return room


def rooms_close_finished() -> int:
    """Set the closing time of every open event room whose event has finished (periodic)."""
    from edges import selectors as edge_selectors

    closed = 0
    for room in Room.objects.filter(kind=Room.Kind.EVENT, closed_at__isnull=True):
        if room.event_id is None:
            continue
        event = edge_selectors.event_get(event_id=room.event_id)
        if event is not None and event.finished_at is not None:
            room_for_event(event_id=room.event_id, title=room.title, finished_at=event.finished_at)
            closed += 1
    return closed


def room_set_slow_mode(*, staff: User, room: Room, seconds: int) -> Room:
    _require_moderator(staff)
    if not 0 <= seconds <= 3600:
        raise ApplicationError("Slow mode is 0 to 3600 seconds.", code="validation_error")
    room.slow_mode_sec = seconds
    room.save(update_fields=["slow_mode_sec", "updated_at"])
    _audit(staff, "slow_mode", room=room.slug, seconds=seconds)
    return room


# --- who may write ---------------------------------------------------------------------


def active_mute(*, user: User, room: Room, now: datetime | None = None) -> Mute | None:
    return _active_mutes({(user.pk, room.pk)}, now=now or timezone.now())[(user.pk, room.pk)]


def _active_mutes(pairs: set[tuple[int, int]], *, now: datetime) -> dict[tuple[int, int], Mute | None]:
    """The mute that holds for each (user id, room id), in that room or everywhere, the one
    lasting longest first; one query for every pair."""
    if not pairs:
        return {}
    mutes = (
        Mute.objects.filter(user_id__in={user_id for user_id, _ in pairs}, until__gt=now)
        .filter(Q(room__isnull=True) | Q(room_id__in={room_id for _, room_id in pairs}))
        .order_by("-until")
    )
    by_user: dict[int, list[Mute]] = {}
    for mute in mutes:
        by_user.setdefault(mute.user_id, []).append(mute)
    return {
        (user_id, room_id): next(
            (m for m in by_user.get(user_id, ()) if m.room_id is None or m.room_id == room_id), None
        )
        for user_id, room_id in pairs
    }


def _clock(when: datetime, user: User) -> str:
    """`when` as the user reads it: the time in their zone, with the zone's abbreviation
    (the frame's `until` stays UTC, as the API does)."""
    local = when.astimezone(zone_for(user))
    return f"{local:%H:%M} {local.tzname()}"


def ensure_can_write(*, user: User, room: Room, now: datetime | None = None) -> None:
    """Only active, verified users who are not self-excluded or muted write, in open rooms."""
    now = now or timezone.now()
    _ensure_account(user)
    _ensure_can_write(user, room, now=now, mute=active_mute(user=user, room=room, now=now))


def _ensure_can_write(user: User, room: Room, *, now: datetime, mute: Mute | None) -> None:
    """`ensure_can_write`'s rules on what is already read: the user's standing and `mute`,
    the mute that holds for them in `room` (`_active_mutes`)."""
    _ensure_account(user)
    if user.verification_level < User.VerificationLevel.EMAIL:
        raise PermissionDenied("Verify your email address to chat.", code="verification_required")
    if user.self_excluded_until and user.self_excluded_until > now:
        raise PermissionDenied(
            "You are self-excluded; chat is closed to you until it ends.",
            code="self_excluded",
            details={"until": user.self_excluded_until.isoformat()},
        )
    if mute is not None:
        where = "in this room" if mute.room_id else "in every room"
        raise PermissionDenied(
            f"You are muted {where} until {_clock(mute.until, user)}."
            + (f" Reason: {mute.reason}" if mute.reason else ""),
            code="muted",
            details={"until": mute.until.isoformat(), "room": room.slug if mute.room_id else None},
        )
    if room.is_closed(now):
        raise ApplicationError("This room is closed for new messages.", code="room_closed", status=409)


# --- one rule set for every write ------------------------------------------------------

# The kinds that speak in the room (a message, a reaction, a report, a typing signal) follow
# every "who may write" rule; deleting one's own message and reading history need only a
# usable account (a muted or self-excluded user may still take their words down and scroll
# back, and a closed room keeps its history). Every kind has its per-user limit.
SPEAKING_KINDS = frozenset({"message", "reaction", "report", "typing"})
ACCOUNT_KINDS = frozenset({"delete", "history"})
_STANDING_FIELDS = ["is_active", "status", "deleted_at", "verification_level", "self_excluded_until"]
_KIND_NAMES = {
    "message": "messages",
    "reaction": "reactions",
    "report": "reports",
    "typing": "typing signals",
    "delete": "deletions",
    "history": "history pages",
}


def _ensure_account(user: User) -> None:
    if not user.is_authenticated:
        raise ApplicationError("Log in to chat.", code="not_authenticated", status=401)
    if not user.is_active or user.status == User.Status.SUSPENDED or user.deleted_at is not None:
        raise PermissionDenied("Your account is suspended.", code="account_suspended")


@dataclass(frozen=True)
class WriteAttempt:
    """One chat write to check: who, where, which kind (`SPEAKING_KINDS`, `ACCOUNT_KINDS`)."""

    user: User
    room: Room
    kind: str


def chat_write_check(*, user: User, room: Room, kind: str, now: datetime | None = None) -> None:
    """The one rule set every chat write passes before it does anything, whichever way it
    came (socket, API, demo): the "who may write" rules for its kind (`ensure_can_write`
    for the speaking kinds, a usable account for the others), then the user's limit for the
    kind, counted in Redis across all their sockets, processes and the API (`chat.limits`).
    Refusals: the codes of `ensure_can_write`, and `rate_limited` (429, `retry_after`).

    The user's standing is re-read first: a socket holds the user object it connected with,
    and a suspension or self-exclusion since then must count on its next write."""
    (refusal,) = chat_write_checks([WriteAttempt(user=user, room=room, kind=kind)], now=now)
    if refusal is not None:
        raise refusal


def chat_write_checks(
    attempts: list[WriteAttempt], *, now: datetime | None = None
) -> list[ApplicationError | None]:
    """`chat_write_check` for many writes at once: for each, in order, the refusal it would
    get on its own (None: let through, and counted against its limit). One query re-reads
    every user's standing, one reads the mutes, one Redis round trip counts the limits,
    whatever the number of writes; two writes of one user count one after the other."""
    for attempt in attempts:
        if attempt.kind not in SPEAKING_KINDS and attempt.kind not in ACCOUNT_KINDS:
            raise ValueError(f"unknown chat write kind {attempt.kind!r}")
    now = now or timezone.now()
    gone = _refresh_standing([a.user for a in attempts if a.user.is_authenticated])
    mutes = _active_mutes(
        {(a.user.pk, a.room.pk) for a in attempts if a.kind in SPEAKING_KINDS and a.user.is_authenticated},
        now=now,
    )
    refusals: list[ApplicationError | None] = []
    for attempt in attempts:
        try:
            if attempt.user.pk in gone:
                raise PermissionDenied("Your account is suspended.", code="account_suspended")
            if attempt.kind in SPEAKING_KINDS:
                mute = mutes.get((attempt.user.pk, attempt.room.pk))
                _ensure_can_write(attempt.user, attempt.room, now=now, mute=mute)
            else:
                _ensure_account(attempt.user)
        except ApplicationError as problem:
            refusals.append(problem)
        else:
            refusals.append(None)
    counted = [i for i, refusal in enumerate(refusals) if refusal is None]
    waits = limits.hit_many([(attempts[i].user.pk, attempts[i].kind) for i in counted])
    for i, wait in zip(counted, waits, strict=True):
        if wait:
            refusals[i] = _rate_limited(attempts[i].kind, wait)
    return refusals


def _refresh_standing(users: list[User]) -> set[int]:
    """Re-read the standing fields of every user (one query; several objects of one user
    all updated); returns the ids of users whose row is gone."""
    rows = {
        row["pk"]: row
        for row in User.objects.filter(pk__in={u.pk for u in users}).values("pk", *_STANDING_FIELDS)
    }
    for user in users:
        row = rows.get(user.pk)
        if row is not None:
            for field in _STANDING_FIELDS:
                setattr(user, field, row[field])
    return {u.pk for u in users} - rows.keys()


def _rate_limited(kind: str, wait: float) -> ApplicationError:
    count, seconds = limits.limit_for(kind)
    return ApplicationError(
        f"Slow down: at most {count} {_KIND_NAMES[kind]} every {seconds} seconds. Try again in {wait:g} s.",
        code="rate_limited",
        status=429,
        details={"retry_after": wait, "kind": kind, "limit": count, "window_sec": seconds},
    )


def clean_text(raw: Any) -> str:
    """Trimmed plain text, 1-500 characters, no control characters (newlines allowed)."""
    if not isinstance(raw, str):
        raise ApplicationError("text is a string.", code="validation_error", details={"field": "text"})
    text = unicodedata.normalize("NFC", raw).strip()
    text = re.sub(r"\r\n?", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") and ch != "\n" for ch in text):
        raise ApplicationError(
            "Messages cannot contain control characters.", code="validation_error", details={"field": "text"}
        )
    if not text:
        raise ApplicationError("Write something first.", code="validation_error", details={"field": "text"})
    if len(text) > MAX_TEXT:
        raise ApplicationError(
            f"Messages are at most {MAX_TEXT} characters ({len(text)} given).",
            code="validation_error",
            details={"field": "text", "max_length": MAX_TEXT},
        )
    return text


def check_policy(text: str, *, user: User) -> None:
    """The blocked-words list and the link policy (settings): with `block`, every host the
    text points at, however it is written (`chat.links`), must be an allowed domain."""
    lowered = text.casefold()
    for word in settings.CHAT_BLOCKED_WORDS:
        if word and re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", lowered):
            raise ApplicationError(
                "That message contains a word that is not allowed here.", code="blocked_word", status=400
            )
    if settings.CHAT_LINK_POLICY == "allow" or user.is_staff:
        return
    refused = links.disallowed_hosts(text, settings.CHAT_ALLOWED_LINK_DOMAINS)
    if refused:
        raise ApplicationError(
            "Links are not allowed in chat.", code="link_not_allowed", details={"host": refused[0]}
        )


def _slow_mode(user: User, room: Room) -> None:
    wait = presence.hit_slow_mode(room.pk, user.pk, room.slow_mode_sec)
    if wait:
        raise ApplicationError(
            f"Slow mode is on: one message every {room.slow_mode_sec} s. Try again in {wait:g} s.",
            code="slow_mode",
            status=429,
            details={"retry_after": wait},
        )


# --- messages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedMessage:
    """A message that passed every check of `message_prepare`, built but not yet stored
    (`is_replay`: the stored message of a `client_id` already used, to be answered as is)."""

    message: Message
    client_id: str | None
    is_replay: bool = False


@dataclass(frozen=True)
class SendAttempt:
    """One send to check (`messages_prepare`), as it came in."""

    user: User
    room: Room
    text: Any
    client_id: Any = None
    attachment: dict[str, Any] | None = None


def message_prepare(
    *,
    user: User,
    room: Room,
    text: Any,
    client_id: str | None = None,
    attachment: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> PreparedMessage:
    """Every check of a send, in order (a replayed `client_id` first: it is answered with the
    stored message and counts against no limit); returns the message to store."""
    send = SendAttempt(user=user, room=room, text=text, client_id=client_id, attachment=attachment)
    (result,) = messages_prepare([send], now=now)
    if isinstance(result, ApplicationError):
        raise result
    return result


def messages_prepare(
    sends: list[SendAttempt], *, now: datetime | None = None
) -> list[PreparedMessage | ApplicationError]:
    """`message_prepare` for many sends at once (the socket's sends gathered by the process's
    writer, `chat.writer`): for each, in order, its prepared message or the refusal it would
    get on its own, by the same checks in the same order. The reads are shared: one query
    for the replayed client ids, then `chat_write_checks` (one query for the users'
    standing, one for their mutes, one Redis round trip for their limits); the text, link
    and slow-mode rules are each send's own."""
    results: list[PreparedMessage | ApplicationError | None] = [None] * len(sends)
    keys: dict[int, tuple[int, str]] = {}
    for i, send in enumerate(sends):
        client_id = send.client_id
        if client_id is not None and (not isinstance(client_id, str) or not _CLIENT_ID_RE.match(client_id)):
            results[i] = ApplicationError(
                "client_id is 1-64 letters, digits or . _ : -",
                code="validation_error",
                details={"field": "client_id"},
            )
        elif client_id and send.user.is_authenticated:
            keys[i] = (send.user.pk, client_id)
    replays = _replays(set(keys.values()))
    for i, key in keys.items():
        if key in replays:
            results[i] = PreparedMessage(message=replays[key], client_id=key[1], is_replay=True)
    checking = [i for i, result in enumerate(results) if result is None]
    attempts = [WriteAttempt(user=sends[i].user, room=sends[i].room, kind="message") for i in checking]
    for i, refusal in zip(checking, chat_write_checks(attempts, now=now), strict=True):
        try:
            if refusal is not None:
                raise refusal
            results[i] = _message_checked(sends[i], now=now)
        except ApplicationError as problem:
            results[i] = problem
    return [result for result in results if result is not None]


def _message_checked(send: SendAttempt, *, now: datetime | None) -> PreparedMessage:
    """The rules of a send's own text and room once the writer may write: the text, the
    blocked words and links, slow mode; then the message to store."""
    cleaned = clean_text(send.text)
    check_policy(cleaned, user=send.user)
    _slow_mode(send.user, send.room)
    message = Message(
        msg_id=uuid.uuid4(),
        ts=now or timezone.now(),  # each its own time: a sender's burst keeps its order in history
        room=send.room,
        user=send.user,
        text=cleaned,
        attachment=send.attachment,
    )
    return PreparedMessage(message=message, client_id=send.client_id or None)


def message_post(
    *,
    user: User,
    room: Room,
    text: Any,
    client_id: str | None = None,
    attachment: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> tuple[Message, bool]:
    """Store a message once (per `client_id`), publish it; returns (message, created)."""
    prepared = message_prepare(
        user=user, room=room, text=text, client_id=client_id, attachment=attachment, now=now
    )
    return messages_store([prepared])[0]


_INSERT_KEYS_SQL = """
INSERT INTO chat_messagekey (user_id, client_id, msg_id, ts, created_at)
SELECT k.user_id, k.client_id, k.msg_id, k.ts, %(now)b
  FROM unnest(%(user_ids)b::bigint[], %(client_ids)b::text[], %(msg_ids)b::uuid[], %(ts)b::timestamptz[])
       AS k(user_id, client_id, msg_id, ts)
ON CONFLICT (user_id, client_id) DO NOTHING
RETURNING user_id, client_id
"""


def messages_store(prepared: list[PreparedMessage]) -> list[tuple[Message, bool]]:
    """Store a batch of checked messages in one transaction and publish them after commit;
    returns (message, created) for each, in order.

    Each `(user, client_id)` is stored once: a second send of the same key in the batch, or a
    key another transaction stored first (its insert waits for that one to commit, then
    skips), is answered with the stored message and `created` False. In the transaction: the
    keys (one INSERT ... ON CONFLICT DO NOTHING), the messages (one multi-row INSERT into
    the partitioned table), the `chat.message` outbox events (one INSERT); after commit, one
    numbered frame per message to its room, in the batch's order."""
    results: list[tuple[Message, bool] | None] = [None] * len(prepared)
    fresh: list[int] = []  # positions of messages to insert
    first_of_key: dict[tuple[int, str], int] = {}
    for position, item in enumerate(prepared):
        if item.is_replay:
            results[position] = (item.message, False)
            continue
        key = (item.message.user_id, item.client_id) if item.client_id else None
        if key is not None and key in first_of_key:
            continue  # answered with the first's message below
        if key is not None:
            first_of_key[key] = position
        fresh.append(position)
    with transaction.atomic():
        keyed = [p for p in fresh if prepared[p].client_id]
        taken: set[tuple[int, str]] = set()
        if keyed:
            with binding_cursor() as cursor:
                cursor.execute(
                    _INSERT_KEYS_SQL,
                    {
                        "now": timezone.now(),
                        "user_ids": [prepared[p].message.user_id for p in keyed],
                        "client_ids": [prepared[p].client_id for p in keyed],
                        "msg_ids": [prepared[p].message.msg_id for p in keyed],
                        "ts": [prepared[p].message.ts for p in keyed],
                    },
                    binary=True,
                )
                taken = {(user_id, client_id) for user_id, client_id in cursor.fetchall()}
        stored: list[int] = []
        for position in fresh:
            item = prepared[position]
            if item.client_id and (item.message.user_id, item.client_id) not in taken:
                # stored before, by another batch or process: answer with that message
                replay = _replay(item.message.user, item.client_id)
                if replay is None:
                    raise ApplicationError("That message could not be stored.", code="conflict", status=409)
                results[position] = (replay, False)
            else:
                stored.append(position)
        messages = [prepared[p].message for p in stored]
        if messages:
            Message.objects.bulk_create(messages)
            outbox.publish_batch(
                "chat.message",
                [
                    {
                        "room_id": m.room_id,
                        "room": m.room.slug,
                        "msg_id": str(m.msg_id),
                        "ts": m.ts.isoformat(),
                        "user_id": m.user_id,
                        "text": m.text,
                    }
                    for m in messages
                ],
            )
            names = user_public_names(user_ids=[m.user_id for m in messages])
            realtime.send_many_on_commit(
                [
                    (m.room_id, "message", message_frame(m, user=m.user, room=m.room, names=names))
                    for m in messages
                ]
            )
        for position in stored:
            results[position] = (prepared[position].message, True)
    for position, item in enumerate(prepared):
        if results[position] is None and item.client_id:  # a second send of a key in this batch
            first = results[first_of_key[(item.message.user_id, item.client_id)]]
            assert first is not None
            results[position] = (first[0], False)
    return [result for result in results if result is not None]


def _replay(user: User, client_id: str) -> Message | None:
    return _replays({(user.pk, client_id)}).get((user.pk, client_id))


def _replays(keys: set[tuple[int, str]]) -> dict[tuple[int, str], Message]:
    """The stored message of each (user id, client id) already used: one query for the keys
    and, if any were used, one for their messages."""
    if not keys:
        return {}
    found = MessageKey.objects.filter(
        user_id__in={user_id for user_id, _ in keys}, client_id__in={client_id for _, client_id in keys}
    ).values_list("user_id", "client_id", "msg_id", "ts")
    used = {(user_id, client_id): (msg_id, ts) for user_id, client_id, msg_id, ts in found}
    used = {key: at for key, at in used.items() if key in keys}
    if not used:
        return {}
    messages = {
        (m.msg_id, m.ts): m
        for m in Message.objects.select_related("room", "user").filter(
            msg_id__in=[msg_id for msg_id, _ in used.values()], ts__in=[ts for _, ts in used.values()]
        )
    }
    return {key: messages[at] for key, at in used.items() if at in messages}


def message_get(*, msg_id: Any) -> Message:
    try:
        parsed = uuid.UUID(str(msg_id))
    except (TypeError, ValueError, AttributeError) as exc:
        raise NotFound("No such message.") from exc
    message = Message.objects.select_related("room", "user").filter(msg_id=parsed).first()
    if message is None:
        raise NotFound("No such message.")
    return message


def _locked(message: Message) -> Message:
    return Message.objects.select_for_update().get(msg_id=message.msg_id, ts=message.ts)


def _updated(message: Message) -> None:
    realtime.send_on_commit(message.room_id, "message.updated", message_frame(message))


def message_react(*, user: User, message: Message, emoji: Any) -> tuple[Message, bool]:
    """Toggle the user's `emoji` on the message; returns (message, now_on)."""
    chat_write_check(user=user, room=message.room, kind="reaction")
    if emoji not in REACTIONS:
        raise ApplicationError(
            "Unknown reaction.", code="validation_error", details={"allowed": list(REACTIONS)}
        )
    if not message.is_visible:
        raise ApplicationError("That message is not shown any more.", code="message_unavailable", status=409)
    with transaction.atomic():
        locked = _locked(message)
        deleted, _ = Reaction.objects.filter(msg_id=locked.msg_id, user=user, emoji=emoji).delete()
        now_on = not deleted
        if now_on:
            Reaction.objects.create(msg_id=locked.msg_id, ts=locked.ts, user=user, emoji=emoji)
        count = int(locked.reactions.get(emoji, 0)) + (1 if now_on else -1)
        reactions = {**locked.reactions, emoji: count}
        locked.reactions = {k: v for k, v in reactions.items() if v > 0}
        Message.objects.filter(msg_id=locked.msg_id, ts=locked.ts).update(reactions=locked.reactions)
        locked.room = message.room
        locked.user = message.user
        _updated(locked)
    return locked, now_on


def message_report(*, user: User, message: Message, reason: str = "") -> Report:
    """Report someone else's message to the moderators (once per reporter and message)."""
    chat_write_check(user=user, room=message.room, kind="report")
    if message.user_id == user.pk:
        raise ApplicationError("You cannot report your own message.", code="validation_error")
    if not isinstance(reason, str) or len(reason) > 200:
        raise ApplicationError("reason is up to 200 characters.", code="validation_error")
    with transaction.atomic():
        report, created = Report.objects.get_or_create(
            msg_id=message.msg_id,
            reporter=user,
            defaults={
                "ts": message.ts,
                "room": message.room,
                "author_id": message.user_id,
                "text": message.text,
                "reason": reason.strip(),
            },
        )
        if created:
            locked = _locked(message)
            locked.flags = {**locked.flags, "reports": int(locked.flags.get("reports", 0)) + 1}
            Message.objects.filter(msg_id=locked.msg_id, ts=locked.ts).update(flags=locked.flags)
    return report


def message_delete(*, user: User, message: Message) -> Message:
    """The author takes their message down (a tombstone stays in the history)."""
    chat_write_check(user=user, room=message.room, kind="delete")
    if message.user_id != user.pk:
        raise PermissionDenied("You can delete only your own messages.")
    return _set_flag(message, "deleted", True)


def typing_signal(*, user: User, room: Room) -> None:
    """Tell the room the user is typing (a frame now, nothing stored)."""
    chat_write_check(user=user, room=room, kind="typing")
    name = user_public_name(user_id=user.pk)
    realtime.send_now(room.pk, "typing", {"user": {"id": user.pk, "name": name}})


def history_request(
    *, user: User, room: Room, before: str | None = None, limit: int | None = None
) -> selectors.HistoryPage:
    """A history page the user asked for (socket or API): counted against their history
    limit, since each page is a database query on request."""
    chat_write_check(user=user, room=room, kind="history")
    return selectors.history(room=room, before=before, limit=limit)


def _set_flag(message: Message, flag: str, on: bool) -> Message:
    with transaction.atomic():
        locked = _locked(message)
        flags = {k: v for k, v in locked.flags.items() if k != flag}
        if on:
            flags[flag] = True
        locked.flags = flags
        Message.objects.filter(msg_id=locked.msg_id, ts=locked.ts).update(flags=flags)
        locked.room = message.room
        locked.user = message.user
        _updated(locked)
    return locked


# --- moderation (staff) ----------------------------------------------------------------


def _require_moderator(staff: User) -> None:
    if not (staff.is_staff and staff.has_perm("chat.moderate_chat")):
        raise PermissionDenied("You need the chat moderation permission.")


def _audit(staff: User, action: str, **fields: Any) -> None:
    audit_append("chat", {"action": action, "staff_id": staff.pk, "at": timezone.now(), **fields})


def message_hide(*, staff: User, message: Message, reason: str = "") -> Message:
    _require_moderator(staff)
    hidden = _set_flag(message, "hidden", True)
    Report.objects.filter(msg_id=message.msg_id, status=Report.Status.OPEN).update(
        status=Report.Status.HIDDEN, resolved_at=timezone.now(), resolved_by=staff
    )
    _audit(
        staff,
        "hide",
        msg_id=str(message.msg_id),
        room=message.room.slug,
        author_id=message.user_id,
        reason=reason,
    )
    return hidden


def message_restore(*, staff: User, message: Message) -> Message:
    _require_moderator(staff)
    restored = _set_flag(message, "hidden", False)
    _audit(staff, "restore", msg_id=str(message.msg_id), room=message.room.slug, author_id=message.user_id)
    return restored


def report_dismiss(*, staff: User, report: Report) -> Report:
    _require_moderator(staff)
    report.status = Report.Status.DISMISSED
    report.resolved_at = timezone.now()
    report.resolved_by = staff
    report.save(update_fields=["status", "resolved_at", "resolved_by"])
    _audit(staff, "dismiss_report", report_id=report.pk, msg_id=str(report.msg_id))
    return report


def user_mute(*, staff: User, user: User, minutes: int, room: Room | None = None, reason: str = "") -> Mute:
    """Mute `user` in `room` (or everywhere) for `minutes`; they are told on their sockets."""
    _require_moderator(staff)
    if user.pk == staff.pk:
        raise ApplicationError("You cannot mute yourself.", code="validation_error")
    if not 1 <= minutes <= 60 * 24 * 365:
        raise ApplicationError("A mute lasts 1 minute to a year.", code="validation_error")
    mute = Mute.objects.create(
        user=user,
        room=room,
        until=timezone.now() + timedelta(minutes=minutes),
        reason=reason,
        created_by=staff,
    )
    _audit(staff, "mute", user_id=user.pk, room=room.slug if room else None, minutes=minutes, reason=reason)
    core_realtime.notify(
        user.pk,
        {
            "kind": "chat.muted",
            "message": f"You are muted {'in ' + room.title if room else 'in chat'} until {_clock(mute.until, user)}.",
            "until": mute.until.isoformat(),
        },
    )
    return mute


def user_unmute(*, staff: User, mute: Mute) -> None:
    _require_moderator(staff)
    Mute.objects.filter(pk=mute.pk).update(until=timezone.now())
    _audit(staff, "unmute", user_id=mute.user_id, mute_id=mute.pk)
