"""Demo data for the edges app: the books, the sports and a quoted slate of upcoming events.

Idempotent: books are upserted by key; events are added only while fewer than the slate
size are upcoming. The events start within minutes, so a demo user sees bets settle. With
ODDS_API_KEY set the real feed fills the board and no simulated event is created.

The slate is quoted before this returns: one tick of the demo feed prices every open
simulated event (only those: the simulator adopts `sim-` provider ids and nothing else), so
the apps seeded after this one (betting, social, chat) find prices to place the demo
bettors' history at, on the very first `make run`, before `simulate_odds` has started.
The feed ticks on (at most `MAX_TICKS_FOR_AN_EDGE`) until the board shows a +EV edge, which
is irregular on a fresh slate (0 after a first tick in 2 of 3 trials, one after 1 to 8
ticks): the first demo bets are taken from it, so a bet page shows the edge it came from.

Edge alerts: every demo bettor gets one (+EV of 3% or more); the alerts demo account also
gets "Any +EV edge" by email, saved before the ticks, so the edges they find match it: the
matcher the ingest hands them to (`edge_alerts_match`, on a worker in `make run`) runs here
too, so `/edges/alerts/` lists hits, and the hit's email is owed, on the first visit.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from betthat.users.demo import ALERTS_EMAIL
from edges.alerts import edge_alerts_match
from edges.ingest import ingest_updates
from edges.models import SIMULATED_PREFIX, Edge, EdgeAlert, EdgeAlertHit, Event
from edges.simulator import SPORTS, Simulator

SLATE = 8
MAX_TICKS_FOR_AN_EDGE = 40
ANY_EDGE_ALERT = "Any +EV edge"


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
    # the first tick adopts the slate (a fresh database's included) and quotes every book on it.
    feed = Simulator(start_within=(180.0, 900.0), events=0)
    quotes = ticks = 0
    while ticks < MAX_TICKS_FOR_AN_EDGE:
        quotes += feed.tick()["report"].quotes_accepted
        ticks += 1
        if _open_edges().filter(kind=Edge.Kind.POSITIVE_EV).exists():
            break
    stdout.write(
        f"edges: 8 sportsbooks, {len(events)} new upcoming events ({upcoming + len(events)} upcoming), "
        f"{quotes} demo quotes in {ticks} ticks, {_open_edges().count()} open edges, {alerts} new edge alerts"
    )
    # What the worker's `match_edge_alerts_task` does with the ticks' edges, done now (a hit
    # exists once per alert and edge: the worker's run later finds nothing new).
    edge_alerts_match(edge_ids=list(_open_edges().values_list("edge_id", flat=True)))
    hits = EdgeAlertHit.objects.filter(alert__user__email=ALERTS_EMAIL, alert__name=ANY_EDGE_ALERT).count()
    stdout.write(f"demo: edge alert “{ANY_EDGE_ALERT}” of {ALERTS_EMAIL}: {hits} hits (/edges/alerts/)")


def _open_edges():
    return Edge.objects.filter(status=Edge.Status.ACTIVE, event__provider_id__startswith=SIMULATED_PREFIX)


def _seed_alerts(users) -> int:
    """Each demo bettor gets one alert (+EV of 3 % or more), so a notification shows within
    minutes of `make run`; a bettor who already has alerts keeps theirs."""
    from edges.alerts import edge_alert_create

    created = 0
    for user in users:
        if user.is_staff or EdgeAlert.objects.filter(user=user).exists():
            continue
        edge_alert_create(user=user, name="+EV of 3% or more", kind=Edge.Kind.POSITIVE_EV, min_ev=0.03)
        created += 1
    alerted = next((u for u in users if u.email == ALERTS_EMAIL), None)
    if alerted is not None and not EdgeAlert.objects.filter(user=alerted, name=ANY_EDGE_ALERT).exists():
        edge_alert_create(
            user=alerted, name=ANY_EDGE_ALERT, kind=Edge.Kind.POSITIVE_EV, min_ev=None, send_email=True
        )
        created += 1
    return created
