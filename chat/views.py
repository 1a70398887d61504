"""Chat pages: the lobby (open rooms with counts) and a room (history, live messages,
presence, reactions, and for an event the live market beside the conversation)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from betthat.core.errors import ApplicationError
from chat import selectors, services
from chat.models import REACTIONS, Room
from chat.serializers import message_frames, presence_summary


@login_required
def lobby(request):
    return render(
        request,
        "chat/index.html",
        {"rooms": selectors.rooms_open(), "events": selectors.events_without_room(limit=12)},
    )


@login_required
def event_room(request, event_id: int):
    """An event's room, opened (created) on first visit."""
    try:
        event = selectors.event_for_room(event_id=event_id)
    except ApplicationError as missing:
        raise Http404(missing.message) from missing
    room = services.room_for_event(event_id=event.pk, title=str(event), finished_at=event.finished_at)
    return redirect("chat:room", slug=room.slug)


@login_required
def room(request, slug: str):
    if slug == "lobby":
        chat_room = services.room_lobby()
    else:
        try:
            chat_room = selectors.room_get(slug=slug)
        except ApplicationError as missing:
            raise Http404(missing.message) from missing
    page = selectors.history(room=chat_room)
    refusal = None
    try:
        services.ensure_can_write(user=request.user, room=chat_room)
    except ApplicationError as problem:
        refusal = problem.message
    event = panel = None
    if chat_room.kind == Room.Kind.EVENT and chat_room.event_id:
        event = selectors.event_for_room(event_id=chat_room.event_id)
        chat_room = services.room_for_event(
            event_id=event.pk, title=chat_room.title, finished_at=event.finished_at
        )
        panel = selectors.market_panel(event=event)
    return render(
        request,
        "chat/room.html",
        {
            "room": chat_room,
            "messages": message_frames(page.messages, room=chat_room),
            "before": page.before,
            "presence": presence_summary(chat_room.pk),
            "refusal": refusal,
            "reactions": REACTIONS,
            "event": event,
            "panel": panel,
        },
    )
