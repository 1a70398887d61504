"""Writes of the edges app: results, event lifecycle, edge lifecycle, ingest entry points.

The quote path itself (upsert, history, edge recompute, cache, fan-out) is in
`edges.ingest`; these services are what pages, tasks and commands call.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from betthat.core.errors import ApplicationError, NotFound
from betthat.core.outbox import publish
from edges import realtime
from edges.ingest.store import edges_set_status
from edges.models import Edge, Event, Market

logger = logging.getLogger(__name__)

EXPIRED_RETENTION = timedelta(days=7)


def _event_payload(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.pk,
        "provider_id": event.provider_id,
        "sport_key": event.sport.key,
        "home_team": event.home_team,
        "away_team": event.away_team,
        "commence_time": event.commence_time,
        "status": event.status,
        "home_score": event.home_score,
        "away_score": event.away_score,
        "scores": event.scores,
    }


@transaction.atomic
def event_record_result(
    *,
    event_id: int,
    home_score: int | None,
    away_score: int | None,
    status: str = "final",
    player_stats: dict[str, dict[str, Any]] | None = None,
) -> Event:
    """Store the event's result and publish `event.finished` (or `event.cancelled`).

    Idempotent: recording the same result again changes nothing and publishes nothing;
    a different result for a finished event is refused (`conflict`).
    """
    if status not in (Event.Status.FINAL, Event.Status.CANCELLED):
        raise ApplicationError(
            "A result's status is final or cancelled.", code="validation_error", details={"status": status}
        )
    if status == Event.Status.FINAL and (home_score is None or away_score is None):
        raise ApplicationError("A final result needs both scores.", code="validation_error")
    event = Event.objects.select_for_update(of=("self",)).select_related("sport").filter(pk=event_id).first()
    if event is None:
        raise NotFound(f"No event {event_id}.")
    scores = {
        "home": home_score,
        "away": away_score,
        "players": {name: dict(stats) for name, stats in (player_stats or {}).items()},
    }
    if event.status in (Event.Status.FINAL, Event.Status.CANCELLED):
        if event.status == status and event.home_score == home_score and event.away_score == away_score:
            return event
        raise ApplicationError(
            "This event already has a different result.",
            code="conflict",
            status=409,
            details={"status": event.status, "home_score": event.home_score, "away_score": event.away_score},
        )
    now = timezone.now()
    event.status = status
    event.home_score = home_score
    event.away_score = away_score
    event.scores = scores
    event.finished_at = now
    if event.started_at is None and status == Event.Status.FINAL:
        event.started_at = min(event.commence_time, now)
    event.save(
        update_fields=[
            "status",
            "home_score",
            "away_score",
            "scores",
            "finished_at",
            "started_at",
            "updated_at",
        ]
    )
    Market.objects.filter(event=event).update(is_suspended=True, updated_at=now)
    _expire_edges(
        Edge.objects.filter(event=event).exclude(status=Edge.Status.EXPIRED), now=now, reason="event_finished"
    )
    publish("event.finished" if status == Event.Status.FINAL else "event.cancelled", _event_payload(event))
    realtime.event_status_changed(event)
    return event


def events_start_due(*, now: datetime | None = None, provider_prefix: str = "") -> list[int]:
    """Scheduled events whose start time has passed go live; each publishes `event.started`
    and loses its edges (an edge is a pre-match opportunity). `provider_prefix` limits it to
    one feed's events (the simulator starts only its own)."""
    now = now or timezone.now()
    started = []
    with transaction.atomic():
        events = list(
            Event.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("sport")
            .filter(
                status=Event.Status.SCHEDULED,
                commence_time__lte=now,
                provider_id__startswith=provider_prefix,
            )
        )
        for event in events:
            event.status = Event.Status.LIVE
            event.started_at = now
            event.save(update_fields=["status", "started_at", "updated_at"])
            publish("event.started", _event_payload(event))
            realtime.event_status_changed(event)
            started.append(event.pk)
        if started:
            _expire_edges(
                Edge.objects.filter(event_id__in=started).exclude(status=Edge.Status.EXPIRED),
                now=now,
                reason="event_started",
            )
    return started


def _expire_edges(queryset: QuerySet[Edge], *, now: datetime, reason: str) -> int:
    """Expire the edges (their event started or finished) and push them as removed."""
    edges = edges_set_status(
        queryset.select_related("event", "sportsbook", "market"), Edge.Status.EXPIRED, now=now
    )
    realtime.edges_removed(edges, reason=reason)
    return len(edges)


@transaction.atomic
def mark_stale(*, now: datetime | None = None) -> int:
    """Active edges resting on a quote older than its book's freshness threshold become
    stale (and are pushed as such). Returns how many changed."""
    now = now or timezone.now()
    edges = edges_set_status(
        Edge.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("event", "sportsbook", "market")
        .filter(status=Edge.Status.ACTIVE, stale_after__lte=now),
        Edge.Status.STALE,
        now=now,
    )
    realtime.edges_updated(edges)
    return len(edges)


@transaction.atomic
def edges_expire_due(*, now: datetime | None = None) -> int:
    """Edges whose event has started (expires_at passed) become expired."""
    now = now or timezone.now()
    return _expire_edges(
        Edge.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status__in=[Edge.Status.ACTIVE, Edge.Status.STALE], expires_at__lte=now
        ),
        now=now,
        reason="event_started",
    )


def edges_lifecycle_tick(*, now: datetime | None = None, provider_prefix: str = "") -> dict[str, int]:
    """One pass of the lifecycle: start due events (of one feed, with `provider_prefix`),
    expire, mark stale."""
    now = now or timezone.now()
    started = events_start_due(now=now, provider_prefix=provider_prefix)
    expired = edges_expire_due(now=now)
    stale = mark_stale(now=now)
    return {"started": len(started), "expired": expired, "stale": stale}


@transaction.atomic
def cleanup_expired_edges(*, now: datetime | None = None, older_than: timedelta = EXPIRED_RETENTION) -> int:
    """Delete edges expired for longer than `older_than` (the history keeps the prices)."""
    now = now or timezone.now()
    deleted, _ = Edge.objects.filter(status=Edge.Status.EXPIRED, updated_at__lt=now - older_than).delete()
    return deleted


def odds_snapshot_append(*, now: datetime | None = None) -> int:
    """Append every current quote as one JSON line to this hour's `odds` audit file
    (gzip, object storage). Called hourly; safe to run more often (each run is a snapshot)."""
    from betthat.core.audit import audit_append_many
    from edges.models import OddsQuote

    now = now or timezone.now()
    records = [
        {
            "snapshot_at": now,
            "event": event,
            "market": market_key,
            "player": player,
            "line": line,
            "outcome": name,
            "book": book,
            "price_decimal": price,
            "price_american": american,
            "last_update": last_update,
            "version": version,
        }
        for event, market_key, player, line, name, book, price, american, last_update, version in OddsQuote.objects.values_list(
            "outcome__market__event__provider_id",
            "outcome__market__key",
            "outcome__market__player",
            "outcome__market__point",
            "outcome__name",
            "sportsbook__key",
            "price_decimal",
            "price_american",
            "last_update",
            "version",
        ).iterator(chunk_size=5000)
    ]
    if records:
        audit_append_many("odds", records, when=now)
    return len(records)


def sportsbook_upsert(
    *,
    key: str,
    title: str,
    region: str = "us",
    is_sharp: bool = False,
    latency_tier: str = "standard",
    freshness_seconds: int = 90,
):
    from edges.models import Sportsbook

    book, _ = Sportsbook.objects.update_or_create(
        key=key,
        defaults={
            "title": title,
            "region": region,
            "is_sharp": is_sharp,
            "latency_tier": latency_tier,
            "freshness_seconds": freshness_seconds,
        },
    )
    return book
