"""Reads of edge alerts, always the requesting user's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from edges.models import EdgeAlert, EdgeAlertHit

if TYPE_CHECKING:
    from betthat.users.models import User


def edge_alert_list(*, user: User) -> QuerySet[EdgeAlert]:
    return EdgeAlert.objects.filter(user=user).order_by("-created_at", "-id")


def edge_alert_get(*, user: User, alert_id: int) -> EdgeAlert | None:
    return EdgeAlert.objects.filter(user=user, pk=alert_id).first()


def edge_alert_hits_recent(*, user: User, limit: int = 50) -> QuerySet[EdgeAlertHit]:
    """The user's latest matches, newest first, with the edge and its event for display."""
    return (
        EdgeAlertHit.objects.filter(user=user)
        .select_related("alert", "edge", "edge__event", "edge__sportsbook")
        .order_by("-created_at", "-id")[:limit]
    )
