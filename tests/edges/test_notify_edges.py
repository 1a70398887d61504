"""The retired `notify_edges` preference ("a message about new top edges", which did nothing)
became an edge alert: the migration gives each user who had it on a "Top edges" alert that
the alert machinery then serves (once per edge, rate-limited, email only if chosen); the
preference is gone from the API and the settings page."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.core import mail

from betthat.users.models import EmailNotification, User
from edges.alerts import edge_alert_create, edge_alerts_match
from edges.models import Edge, EdgeAlert, EdgeAlertHit
from tests.edges.factories import FILE_TIME, books
from tests.edges.test_alerts import _ingest, _listen, _received
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("edges.migrations.0005_notify_edges_becomes_an_alert")


def _with_prefs(**prefs) -> User:
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(preferences={**user.preferences, **prefs})
    return user


def test_the_migration_gives_each_user_who_asked_the_top_edges_alert_and_drops_the_key():
    asked = _with_prefs(notify_edges=True, notify_email=False)
    asked_email = _with_prefs(notify_edges=True, notify_email=True)
    declined = _with_prefs(notify_edges=False)
    legacy = UserFactory()
    User.objects.filter(pk=legacy.pk).update(
        preferences={"notifications": {"edges": True, "email": False, "bet_settled": False}}
    )
    had_it = _with_prefs(notify_edges=True)
    kept = edge_alert_create(user=had_it, min_ev=0.03, name="Mine")

    migration.notify_edges_to_alerts(apps, None)

    alerts = {
        a.user_id: (a.name, a.sport_key, a.kind, a.min_ev, a.sportsbook_key, a.send_email, a.is_active)
        for a in EdgeAlert.objects.exclude(pk=kept.pk)
    }
    top = ("Top edges (EV ≥ 3%)", "", "", 0.03, "")
    assert alerts == {
        asked.pk: (*top, False, True),
        asked_email.pk: (*top, True, True),
        legacy.pk: (*top, False, True),
    }
    assert EdgeAlert.objects.filter(user=had_it).count() == 1  # the same filter is not saved twice
    for user in (asked, asked_email, declined, had_it):
        assert "notify_edges" not in User.objects.get(pk=user.pk).preferences
    assert User.objects.get(pk=legacy.pk).preferences == {
        "notifications": {"email": False, "bet_settled": False}
    }
    # run again: nothing more
    migration.notify_edges_to_alerts(apps, None)
    assert EdgeAlert.objects.count() == 4


def test_the_folded_alert_tells_its_owner_of_new_top_edges_only(
    monkeypatch, django_capture_on_commit_callbacks
):
    books()
    user = _with_prefs(notify_edges=True, notify_email=True)
    migration.notify_edges_to_alerts(apps, None)
    alert = EdgeAlert.objects.get(user=user)
    EdgeAlert.objects.filter(pk=alert.pk).update(created_at=FILE_TIME - timedelta(minutes=1))
    channel = _listen(user.pk)
    handed = _ingest("nfl_decimal.json", monkeypatch, django_capture_on_commit_callbacks)
    # the recorded file's edges are all under 3 %: lift one over the bar
    lifted = Edge.objects.filter(edge_id__in=handed).order_by("-expected_value_per_dollar").first()
    Edge.objects.filter(pk=lifted.pk).update(expected_value_per_dollar=0.045)
    evs = dict(Edge.objects.filter(edge_id__in=handed).values_list("edge_id", "expected_value_per_dollar"))
    top = sorted(edge_id for edge_id, ev in evs.items() if ev >= 0.03)
    assert top == [lifted.edge_id] and len(evs) == 5

    with django_capture_on_commit_callbacks(execute=True):
        report = edge_alerts_match(edge_ids=handed)
    assert report.hits == report.notified == len(top)
    assert sorted(EdgeAlertHit.objects.filter(alert=alert).values_list("edge__edge_id", flat=True)) == top
    payload = _received(channel)["payload"]
    assert payload["type"] == "edge.alert"
    assert sorted(e["edge_id"] for e in payload["edges"]) == top
    assert [e["ev_percent"] for e in payload["edges"]] == ["4.5"]
    assert EmailNotification.objects.filter(user=user).count() == 1
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert edge_alerts_match(edge_ids=handed).hits == 0  # once per edge
    assert EmailNotification.objects.filter(user=user).count() == 1


def test_the_api_refuses_the_retired_preference_and_points_to_alerts(token_client_for):
    user = UserFactory()
    client = token_client_for(user)
    response = client.patch("/api/v1/me/", {"preferences": {"notify_edges": True}}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "validation_error"
    assert "/api/v1/edge-alerts/" in str(body["error"]["details"])
    assert "notify_edges" not in client.get("/api/v1/me/").json()["preferences"]
    assert not EdgeAlert.objects.exists()


def test_the_settings_page_links_to_alerts_instead_of_a_dead_checkbox(client):
    user = UserFactory()
    client.force_login(user)
    html = client.get("/account/settings/").content.decode()
    assert 'name="notify_edges"' not in html
    assert 'data-testid="settings-edge-alerts"' in html and 'href="/edges/alerts/"' in html
