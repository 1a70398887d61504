"""Demo data for the edges app: the books, the sports and a slate of upcoming events.

Idempotent: books are upserted by key; events are added only while fewer than the slate
size are upcoming. The events start within minutes, so a demo user sees bets settle.
"""

from __future__ import annotations

from django.utils import timezone

from edges.ingest import ingest_updates
from edges.models import Event
from edges.simulator import SPORTS, Simulator

SLATE = 8


def seed(*, users, stdout) -> None:
    Simulator.ensure_books()
    now = timezone.now()
    upcoming = Event.objects.filter(status=Event.Status.SCHEDULED, commence_time__gt=now).count()
    simulator = Simulator(start_within=(180.0, 900.0))
    sports = list(SPORTS)
    events = [
        simulator.new_event_data(now=now, sport_key=sports[i % len(sports)])
        for i in range(max(0, SLATE - upcoming))
    ]
    if events:
        ingest_updates(updates=[], events=events, now=now)
    stdout.write(
        f"edges: 8 sportsbooks, {len(events)} new upcoming events ({upcoming + len(events)} upcoming)"
    )
