"""Demo chat: the lobby and the demo events' rooms with some conversation (seed_demo calls
`seed`), and a little live chatter from the demo bettors while `make run` runs."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from betthat.users.demo import FEATURE_EMAILS
from betthat.users.models import User
from chat import selectors, services
from chat.models import Message, Room

EVENT_ROOMS = 4
LINES = [
    "Anyone else on the over tonight?",
    "Line moved half a point in ten minutes, sharp money coming in.",
    "That +EV on the moneyline is still up at one book.",
    "Closing line value is what matters, not one result.",
    "Sizing at quarter Kelly, the variance on props is brutal.",
    "Books are slow to move the alternate lines again.",
    "Home side looked sharp in the first quarter.",
    "Took the arb, both legs filled. Small but free.",
    "Who's watching the late game?",
    "Fair price says the favourite is overpriced here.",
    "Good luck all 🍀",
    "Middle window is open if you got the early number.",
]


def _bettors(users: list[User]) -> list[User]:
    """The demo community speaks; the accounts that show one feature each (frozen, closed,
    KYC...) have no public handle and stay quiet."""
    return [u for u in users if not u.is_staff and u.email not in FEATURE_EMAILS]


def seed(*, users: list[User], stdout: Any) -> None:
    bettors = _bettors(users)
    if not bettors:
        return
    rooms = [services.room_lobby()]
    # Up to EVENT_ROOMS open event rooms: a second run finds them and opens no more.
    now = timezone.now()
    open_rooms = [r for r in Room.objects.filter(event_id__isnull=False) if not r.is_closed(now)]
    rooms += open_rooms[:EVENT_ROOMS]
    for event in selectors.events_without_room(
        limit=max(0, EVENT_ROOMS - len(open_rooms)), simulated_only=True
    ):
        rooms.append(services.room_for_event(event_id=event.pk, title=str(event)))
    rng = random.Random(7)
    created = 0
    for room in rooms:
        if Message.objects.filter(room=room).exists():
            continue
        for i in range(6):
            user = rng.choice(bettors)
            Message.objects.bulk_create(
                [
                    Message(
                        room=room, user=user, text=rng.choice(LINES), ts=now - timedelta(minutes=30 - i * 4)
                    )
                ]
            )
            created += 1
    stdout.write(f"chat: {len(rooms)} rooms, {created} demo messages")


def chatter(*, rng: random.Random | None = None) -> bool:
    """One demo bettor says one line in a random open room. Only demo users (seed_demo's
    @bet-that.local accounts, less those that show one feature each) ever speak, so nothing
    real is touched."""
    if not settings.CHAT_DEMO_CHATTER:
        return False
    rng = rng or random.Random()
    bettors = list(
        User.objects.filter(email__endswith="@bet-that.local", is_staff=False, is_active=True).exclude(
            email__in=FEATURE_EMAILS
        )
    )
    rooms = [r for r in Room.objects.all() if not r.is_closed()]
    if not bettors or not rooms:
        return False
    from betthat.core.errors import ApplicationError

    try:
        services.message_post(user=rng.choice(bettors), room=rng.choice(rooms), text=rng.choice(LINES))
    except ApplicationError:
        return False  # rate limit or a mute: the demo waits like anyone else
    return True
