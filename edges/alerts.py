"""Edge alerts: a saved board filter that tells its owner when a new matching edge appears.

Writes (one transaction each): `edge_alert_create`, `edge_alert_update`, `edge_alert_delete`,
and `edge_alerts_match(edge_ids=)`, which the ingest hands every edge it wrote in a tick
(`edges.ingest.recompute` enqueues `match_edge_alerts_task` after commit: the ingest itself
does no alert work, not even a query).

Matching, per batch of edges: one query for the edges, one for every active alert that
could match them (locked, so two batches for the same alerts take turns), the filters
applied in Python, the hits inserted with ON CONFLICT DO NOTHING (one hit per alert and
edge: an edge that moves again never alerts twice), one count per user of what they were
told in the last hour, then the notices. An edge alerts an alert only if it was discovered
after the alert was saved: "new" edges, not the board as it was.

Rate limit: each user is told of at most `EDGE_ALERTS_PER_HOUR` hits an hour one by one
(one realtime notification per batch listing them, and one email if an alert asks for
email). Past that, the first batch sends one summary ("7 more edges matched") and the
rest of the hour's hits are recorded silently (`held`), listed on the alerts page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from betthat.core import realtime
from betthat.core.errors import ApplicationError, NotFound
from betthat.users.emails import Kind as EmailKind
from betthat.users.emails import email_notification_queue_many
from edges.models import Edge, EdgeAlert, EdgeAlertHit

if TYPE_CHECKING:
    from betthat.users.models import User

MAX_ALERTS_PER_USER = 20
FIELDS = ("name", "sport_key", "kind", "min_ev", "sportsbook_key", "send_email", "is_active")
HOUR = timedelta(hours=1)


def per_hour() -> int:
    return int(settings.EDGE_ALERTS_PER_HOUR)


def _describe(values: dict[str, Any]) -> str:
    parts = [
        values.get("sport_key") or "any sport",
        dict(Edge.Kind.choices).get(values.get("kind") or "", "any kind"),
    ]
    if values.get("min_ev") is not None:
        parts.append(f"EV ≥ {values['min_ev'] * 100:g}%")
    if values.get("sportsbook_key"):
        parts.append(f"at {values['sportsbook_key']}")
    return ", ".join(parts)[:80]


@transaction.atomic
def edge_alert_create(
    *,
    user: User,
    name: str = "",
    sport_key: str = "",
    kind: str = "",
    min_ev: float | None = None,
    sportsbook_key: str = "",
    send_email: bool = False,
) -> EdgeAlert:
    """Save an alert (validated by the caller's form or serializer). At most
    `MAX_ALERTS_PER_USER` per user (409 `limit_exceeded`); the same filter twice is a 409
    `conflict`. Unnamed alerts are named after their filter."""
    # serialise one user's creates, so the count and the duplicate check hold
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    mine = EdgeAlert.objects.filter(user=user)
    if mine.count() >= MAX_ALERTS_PER_USER:
        raise ApplicationError(
            f"You can save at most {MAX_ALERTS_PER_USER} alerts; delete one first.",
            code="limit_exceeded",
            status=409,
            details={"max_alerts": MAX_ALERTS_PER_USER},
        )
    values = {"sport_key": sport_key, "kind": kind, "min_ev": min_ev, "sportsbook_key": sportsbook_key}
    duplicate = mine.filter(**values).first()
    if duplicate is not None:
        raise ApplicationError(
            "You already have an alert on this filter.",
            code="conflict",
            status=409,
            details={"alert_id": duplicate.pk},
        )
    return EdgeAlert.objects.create(
        user=user, name=name.strip() or _describe(values), send_email=send_email, **values
    )


def _mine(*, user: User, alert_id: int) -> EdgeAlert:
    alert = EdgeAlert.objects.select_for_update().filter(user=user, pk=alert_id).first()
    if alert is None:  # someone else's alert is "not found", never "forbidden"
        raise NotFound("No such alert.", details={"alert_id": alert_id})
    return alert


@transaction.atomic
def edge_alert_update(*, user: User, alert_id: int, changes: dict[str, Any]) -> EdgeAlert:
    """Change some of an alert's fields (the caller validated them); the owner's only."""
    alert = _mine(user=user, alert_id=alert_id)
    for name, value in changes.items():
        if name not in FIELDS:
            raise ApplicationError(f"Unknown field {name!r}.", code="validation_error", status=400)
        setattr(alert, name, value.strip() if name == "name" and isinstance(value, str) else value)
    if not alert.name:
        alert.name = _describe(alert.__dict__)
    alert.updated_at = timezone.now()
    alert.save()
    return alert


@transaction.atomic
def edge_alert_delete(*, user: User, alert_id: int) -> None:
    _mine(user=user, alert_id=alert_id).delete()


def alert_matches(alert: EdgeAlert, edge: Edge) -> bool:
    """The board's filters (`edges.selectors.search_edges`) for the fields an alert has."""
    if alert.sport_key and edge.sport_key != alert.sport_key:
        return False
    if alert.kind and edge.kind != alert.kind:
        return False
    if alert.min_ev is not None and edge.expected_value_per_dollar < alert.min_ev:
        return False
    if alert.sportsbook_key:
        books = {leg.get("sportsbook") for leg in edge.legs or []}
        if edge.sportsbook is not None:
            books.add(edge.sportsbook.key)
        if alert.sportsbook_key not in books:
            return False
    return edge.discovered_at >= alert.created_at


_INSERT_HITS_SQL = """
INSERT INTO edges_edgealerthit (alert_id, user_id, edge_id, delivery, created_at)
SELECT h.alert_id, h.user_id, h.edge_id, 'held', %s
  FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS h(alert_id, user_id, edge_id)
ON CONFLICT (alert_id, edge_id) DO NOTHING
RETURNING id, alert_id, user_id, edge_id
"""


@dataclass
class MatchReport:
    hits: int = 0
    notified: int = 0
    summarised: int = 0
    held: int = 0
    users_told: int = 0


def _edge_summary(edge: Edge, alert: EdgeAlert) -> dict[str, Any]:
    books = sorted({leg.get("sportsbook") for leg in edge.legs or [] if leg.get("sportsbook")})
    return {
        "edge_id": edge.edge_id,
        "kind": edge.get_kind_display(),
        "matchup": f"{edge.event.away_team} @ {edge.event.home_team}",
        "side": edge.side,
        "sportsbook": edge.sportsbook.title if edge.sportsbook is not None else ", ".join(books),
        "ev_percent": f"{edge.expected_value_per_dollar * 100:.1f}",
        "alert": alert.name,
        "alert_id": alert.pk,
        "url": reverse("edges:edge", args=[edge.edge_id]),
    }


def _message(told: list[dict[str, Any]], more: int) -> str:
    if len(told) == 1:
        item = told[0]
        text = f"New edge for “{item['alert']}”: {item['matchup']}, {item['side']} at {item['sportsbook']} (EV {item['ev_percent']}%)."
    elif told:
        text = f"{len(told)} new edges match your alerts."
    else:
        text = ""
    if more:
        limit = per_hour()
        text = (text + " " if text else "") + (
            f"{more} more edge{'s' if more != 1 else ''} matched your alerts; "
            f"you get at most {limit} alerts an hour, the rest are on your alerts page."
        )
    return text


def edge_alerts_match(*, edge_ids: Iterable[str], now: datetime | None = None) -> MatchReport:
    """Tell each alert's owner about the edges (by stable id) that newly match it; safe to
    run twice for the same edges (a hit exists once; a second run finds nothing new)."""
    now = now or timezone.now()
    report = MatchReport()
    wanted = list(dict.fromkeys(edge_ids))
    if not wanted:
        return report
    with transaction.atomic():
        edges = list(
            Edge.objects.select_related("event", "sportsbook").filter(
                edge_id__in=wanted, status=Edge.Status.ACTIVE
            )
        )
        if not edges:
            return report
        sports = {edge.sport_key for edge in edges}
        kinds = {edge.kind for edge in edges}
        newest = max(edge.discovered_at for edge in edges)
        alerts = list(
            EdgeAlert.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(is_active=True, user__is_active=True, created_at__lte=newest)
            .filter(Q(sport_key="") | Q(sport_key__in=sports), Q(kind="") | Q(kind__in=kinds))
            .order_by("pk")
        )
        pairs = [(alert, edge) for alert in alerts for edge in edges if alert_matches(alert, edge)]
        if not pairs:
            return report
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT_HITS_SQL,
                [
                    now,
                    [alert.pk for alert, _ in pairs],
                    [alert.user_id for alert, _ in pairs],
                    [edge.pk for _, edge in pairs],
                ],
            )
            inserted = cursor.fetchall()
        report.hits = len(inserted)
        if not inserted:
            return report
        _deliver(inserted, {a.pk: a for a in alerts}, {e.pk: e for e in edges}, now, report)
    return report


def _deliver(
    inserted: list[tuple[int, int, int, int]],
    alerts: dict[int, EdgeAlert],
    edges: dict[int, Edge],
    now: datetime,
    report: MatchReport,
) -> None:
    """Decide per user what to tell (the hourly limit), record it, notify after commit."""
    by_user: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    new_ids = []
    for hit_id, alert_id, user_id, edge_pk in inserted:
        by_user[user_id].append((hit_id, alert_id, edge_pk))
        new_ids.append(hit_id)
    # what each user was told in the last hour (not counting this batch's new hits)
    told = {
        row["user_id"]: row
        for row in EdgeAlertHit.objects.filter(user_id__in=list(by_user), created_at__gte=now - HOUR)
        .exclude(pk__in=new_ids)
        .values("user_id")
        .annotate(
            notified=Count("pk", filter=Q(delivery=EdgeAlertHit.Delivery.NOTIFIED)),
            summarised=Count("pk", filter=Q(delivery=EdgeAlertHit.Delivery.SUMMARISED)),
        )
    }
    limit = per_hour()
    notified_ids: list[int] = []
    summarised_ids: list[int] = []
    payloads: dict[int, dict[str, Any]] = {}
    email_items: list[tuple[int, str, dict[str, Any]]] = []
    for user_id, hits in by_user.items():
        hits.sort()
        seen = told.get(user_id, {"notified": 0, "summarised": 0})
        room = max(0, limit - seen["notified"])
        now_hits, rest = hits[:room], hits[room:]
        summary = rest if rest and not seen["summarised"] else []
        notified_ids += [hit_id for hit_id, _, _ in now_hits]
        summarised_ids += [hit_id for hit_id, _, _ in summary]
        report.notified += len(now_hits)
        report.summarised += len(summary)
        report.held += len(rest) - len(summary)
        if not now_hits and not summary:
            continue
        listed = [_edge_summary(edges[edge_pk], alerts[alert_id]) for _, alert_id, edge_pk in now_hits]
        payloads[user_id] = {
            "type": "edge.alert",
            "kind": "edge_alert",
            "message": _message(listed, len(summary)),
            "edges": listed,
            "more": len(summary),
            "alerts_url": reverse("edges:alerts"),
        }
        report.users_told += 1
        if any(alerts[alert_id].send_email for _, alert_id, _ in now_hits + summary):
            email_items.append((user_id, f"edge_alert:{hits[0][0]}", {"edges": listed, "more": len(summary)}))
    if notified_ids:
        EdgeAlertHit.objects.filter(pk__in=notified_ids).update(delivery=EdgeAlertHit.Delivery.NOTIFIED)
    if summarised_ids:
        EdgeAlertHit.objects.filter(pk__in=summarised_ids).update(delivery=EdgeAlertHit.Delivery.SUMMARISED)
    realtime.notify_many(payloads)
    email_notification_queue_many(kind=EmailKind.EDGE_ALERT, items=email_items)
