"""Demo data for the edges app: the books, the sports and a quoted slate of upcoming events.

Idempotent: books are upserted by key; events are added only while fewer than the slate
size are upcoming. The events start within minutes, so a demo user sees bets settle. With
ODDS_API_KEY set the real feed fills the board and no simulated event is created.

The slate is quoted before this returns: one tick of the demo feed prices every open
simulated event (only those: the simulator adopts `sim-` provider ids and nothing else), so
the apps seeded after this one (betting, social, chat) find prices to place the demo
bettors' history at, on the very first `make run`, before `simulate_odds` has started.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from edges.ingest import ingest_updates
from edges.models import SIMULATED_PREFIX, Edge, Event
from edges.simulator import SPORTS, Simulator

SLATE = 8


def seed(*, users, stdout) -> None:
    alerts = _seed_alerts(users)
    if settings.ODDS_API_KEY:
        # The Odds API feeds the board; simulated events would sit there unquoted.
        stdout.write(
            "edges: ODDS_API_KEY is set, so no simulated events (beat polls The Odds API); "
            f"{alerts} new edge alerts"
        )
        return
    Simulator.ensure_books()
    now = timezone.now()
    upcoming = Event.objects.filter(
        status=Event.Status.SCHEDULED, commence_time__gt=now, provider_id__startswith=SIMULATED_PREFIX
    ).count()
    simulator = Simulator(start_within=(180.0, 900.0))
    sports = list(SPORTS)
    events = [
        simulator.new_event_data(now=now, sport_key=sports[i % len(sports)])
        for i in range(max(0, SLATE - upcoming))
    ]
    if events:
        ingest_updates(updates=[], events=events, now=now)
    # A simulator quotes only the events it has adopted, and adopts at the start of a tick:
    # this tick adopts the slate (a fresh database's included) and quotes every book on it.
    report = Simulator(start_within=(180.0, 900.0), events=0).tick()["report"]
    stdout.write(
        f"edges: 8 sportsbooks, {len(events)} new upcoming events ({upcoming + len(events)} upcoming), "
        f"{report.quotes_accepted} demo quotes, {alerts} new edge alerts"
    )


def _seed_alerts(users) -> int:
    """Each demo bettor gets one alert (+EV of 3 % or more), so a notification shows within
    minutes of `make run`; a bettor who already has alerts keeps theirs."""
    from edges.alerts import edge_alert_create
    from edges.models import EdgeAlert

    created = 0
    for user in users:
        if user.is_staff or EdgeAlert.objects.filter(user=user).exists():
            continue
        edge_alert_create(user=user, name="+EV of 3% or more", kind=Edge.Kind.POSITIVE_EV, min_ev=0.03)
        created += 1
    return created
