"""The `notify_edges` preference ("a message about new top edges") never did anything; edge
alerts are that message with a filter. Every user who had it on gets the alert it promised,
"Top edges": any sport and kind, expected value at least 3 % (a fixed bar: "top" had no number),
emailed when their notification emails were on; the dead key is removed from every user's
preferences (flat `notify_edges`, and the legacy nested `notifications.edges`).

A user who already has an alert on that filter keeps it, and a user at the alert limit (20)
gets none (they manage their alerts themselves). The reverse is a no-op: the preference did
nothing, so there is nothing to give back."""

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

TOP_EDGES_NAME = "Top edges (EV ≥ 3%)"
TOP_EDGES_MIN_EV = 0.03
MAX_ALERTS_PER_USER = 20  # edges.alerts.MAX_ALERTS_PER_USER when this was written


def _wanted(preferences: dict) -> tuple[bool, bool, dict]:
    """(had notify_edges on, wants email, the preferences without the dead key)."""
    cleaned = dict(preferences)
    notifications = cleaned.get("notifications")
    legacy = notifications if isinstance(notifications, dict) else {}
    flat = cleaned.pop("notify_edges", None)
    if "edges" in legacy:
        cleaned["notifications"] = {k: v for k, v in legacy.items() if k != "edges"}
    on = flat is True if isinstance(flat, bool) else legacy.get("edges") is True
    email = cleaned.get("notify_email", legacy.get("email", True))
    return on, email is not False, cleaned


def notify_edges_to_alerts(apps, schema_editor):
    User = apps.get_model("users", "User")
    EdgeAlert = apps.get_model("edges", "EdgeAlert")
    now = timezone.now()
    having = Q(preferences__has_key="notify_edges") | Q(preferences__notifications__has_key="edges")
    for user in User.objects.filter(having).only("pk", "preferences").order_by("pk").iterator():
        on, email, cleaned = _wanted(user.preferences)
        if on:
            mine = EdgeAlert.objects.filter(user_id=user.pk)
            same = mine.filter(sport_key="", kind="", sportsbook_key="", min_ev=TOP_EDGES_MIN_EV)
            if not same.exists() and mine.count() < MAX_ALERTS_PER_USER:
                EdgeAlert.objects.create(
                    user_id=user.pk,
                    name=TOP_EDGES_NAME,
                    min_ev=TOP_EDGES_MIN_EV,
                    send_email=email,
                    created_at=now,
                    updated_at=now,
                )
        User.objects.filter(pk=user.pk).update(preferences=cleaned)


class Migration(migrations.Migration):
    dependencies = [
        ("edges", "0004_edge_alerts"),
        ("users", "0006_merge_20261204_1752"),
    ]

    operations = [migrations.RunPython(notify_edges_to_alerts, migrations.RunPython.noop)]
