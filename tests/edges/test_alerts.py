"""Edge alerts: a saved filter tells its owner (socket, and email if chosen) about new
matching edges, once per edge, at most EDGE_ALERTS_PER_HOUR an hour then one summary; the
ingest hands its edges to the matcher after commit; the API is the owner's only."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from betthat.core import realtime
from betthat.core import redis as bt_redis
from betthat.core.realtime import hub_channel, user_group
from betthat.users import emails
from betthat.users.models import EmailNotification
from edges.alerts import edge_alert_create, edge_alerts_match
from edges.feeds.odds_api import ingest_v4
from edges.models import Edge, EdgeAlert, EdgeAlertHit
from tests.edges.factories import FILE_TIME, SportFactory, books, load
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
NFL = "americanfootball_nfl"


def _listen(user_id):
    """What the hub of an ASGI process would get: the user's notification topic on Redis."""
    pubsub = bt_redis.client().pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(hub_channel(user_group(user_id)))
    return pubsub


def _received(pubsub) -> dict | None:
    """The next notification published to the user's topic, or None if none comes."""
    assert realtime.flush(timeout=5)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message is not None:
            return json.loads(message["data"])
    return None


def _ingest(name, monkeypatch, django_capture_on_commit_callbacks, **kwargs) -> list[str]:
    """Ingest a file; return the edge ids the ingest handed to the alert task after commit."""
    handed: list[list[str]] = []
    monkeypatch.setattr("edges.tasks.match_edge_alerts_task.delay", lambda ids: handed.append(ids))
    with django_capture_on_commit_callbacks(execute=True):
        ingest_v4(load(name), now=FILE_TIME, **kwargs)
    return [edge_id for ids in handed for edge_id in ids]


def test_a_new_matching_edge_alerts_its_owner_once(monkeypatch, django_capture_on_commit_callbacks):
    books()
    owner, other = UserFactory(), UserFactory()
    alert = edge_alert_create(
        user=owner, sport_key=NFL, kind="positive_ev", min_ev=0.02, sportsbook_key="draftkings"
    )
    edge_alert_create(user=other, sport_key="basketball_nba")
    channel = _listen(owner.pk)
    handed = _ingest("nfl_decimal.json", monkeypatch, django_capture_on_commit_callbacks)
    assert len(handed) == Edge.objects.filter(status="active").count() == 5

    with django_capture_on_commit_callbacks(execute=True):
        report = edge_alerts_match(edge_ids=handed)
    assert (report.hits, report.notified, report.summarised, report.users_told) == (1, 1, 0, 1)
    hit = EdgeAlertHit.objects.get()
    assert (hit.alert_id, hit.edge.side, hit.delivery) == (alert.pk, "Los Angeles Chargers", "notified")
    message = _received(channel)
    payload = message["payload"]
    assert payload["type"] == "edge.alert"
    assert [e["side"] for e in payload["edges"]] == ["Los Angeles Chargers"]
    assert payload["edges"][0]["ev_percent"] == "2.7"
    assert payload["message"] == (
        "New edge for “americanfootball_nfl, +EV, EV ≥ 2%, at draftkings”: "
        "Los Angeles Chargers @ Kansas City Chiefs, Los Angeles Chargers at DraftKings (EV 2.7%)."
    )

    # the same edges again (a retried task, or the edge moving): nothing new, nobody told
    with django_capture_on_commit_callbacks(execute=True):
        again = edge_alerts_match(edge_ids=handed)
    assert again.hits == 0 and EdgeAlertHit.objects.count() == 1
    assert _received(channel) is None
    assert not EmailNotification.objects.exists()  # this alert did not ask for email


def test_edges_found_before_the_alert_was_saved_do_not_alert(monkeypatch, django_capture_on_commit_callbacks):
    books()
    user = UserFactory()
    handed = _ingest("nfl_decimal.json", monkeypatch, django_capture_on_commit_callbacks)
    alert = edge_alert_create(user=user)
    EdgeAlert.objects.filter(pk=alert.pk).update(created_at=FILE_TIME + timedelta(minutes=1))
    assert edge_alerts_match(edge_ids=handed).hits == 0


def test_paused_alerts_and_inactive_users_are_not_told(monkeypatch, django_capture_on_commit_callbacks):
    books()
    paused, gone = UserFactory(), UserFactory(is_active=False)
    alert = edge_alert_create(user=paused)
    EdgeAlert.objects.filter(pk=alert.pk).update(is_active=False)
    edge_alert_create(user=gone)
    handed = _ingest("nfl_decimal.json", monkeypatch, django_capture_on_commit_callbacks)
    assert edge_alerts_match(edge_ids=handed).hits == 0


def test_past_the_hourly_limit_one_summary_then_silence(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EDGE_ALERTS_PER_HOUR = 2
    books()
    user = UserFactory()
    edge_alert_create(user=user, name="everything", send_email=True)
    channel = _listen(user.pk)
    handed = _ingest("nfl_decimal.json", monkeypatch, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        report = edge_alerts_match(edge_ids=handed)
    assert (report.hits, report.notified, report.summarised, report.held) == (5, 2, 3, 0)
    payload = _received(channel)["payload"]
    assert len(payload["edges"]) == 2 and payload["more"] == 3
    assert "3 more edges matched your alerts; you get at most 2 alerts an hour" in payload["message"]
    # one email for the batch, listing the two and the three more
    note = EmailNotification.objects.get()
    assert (note.kind, len(note.context["edges"]), note.context["more"]) == ("edge_alert", 2, 3)
    assert emails.email_notification_send(notification_id=note.pk) is True
    assert mail.outbox[0].subject == "[Bet-That] 5 new edges match your alerts"
    assert "...and 3 more" in mail.outbox[0].body

    # later in the hour: recorded, shown on the alerts page, but no more notices
    more = _ingest(
        "nba_american.json", monkeypatch, django_capture_on_commit_callbacks, odds_format="american"
    )
    with django_capture_on_commit_callbacks(execute=True):
        later = edge_alerts_match(edge_ids=more)
    assert later.hits > 0 and later.held == later.hits and later.notified == later.summarised == 0
    assert _received(channel) is None
    assert EmailNotification.objects.count() == 1

    # an hour on, the user is told again
    EdgeAlertHit.objects.update(created_at=timezone.now() - timedelta(hours=2))
    EdgeAlertHit.objects.filter(delivery="held").delete()
    with django_capture_on_commit_callbacks(execute=True):
        fresh = edge_alerts_match(edge_ids=more)
    assert fresh.notified == min(2, fresh.hits) and fresh.notified > 0


def test_an_alert_email_needs_notify_email(monkeypatch, django_capture_on_commit_callbacks):
    books()
    user = UserFactory()
    user.preferences = {**user.preferences, "notify_email": False}
    user.save()
    edge_alert_create(user=user, send_email=True)
    handed = _ingest("nfl_decimal.json", monkeypatch, django_capture_on_commit_callbacks)
    assert edge_alerts_match(edge_ids=handed).notified == 5
    assert not EmailNotification.objects.exists()


# --- the API ---------------------------------------------------------------------------


def test_api_creates_lists_updates_and_deletes_the_owners_alerts(user_client, token_client_for):
    books()
    SportFactory(key=NFL)
    created = user_client.post(
        "/api/v1/edge-alerts/",
        {
            "sport_key": NFL,
            "kind": "arbitrage",
            "min_ev": 0.015,
            "sportsbook_key": "fanduel",
            "send_email": True,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["min_ev"], body["is_active"]) == (
        "americanfootball_nfl, Arbitrage, EV ≥ 1.5%, at fanduel",
        0.015,
        True,
    )
    alert_id = body["id"]
    assert [a["id"] for a in user_client.get("/api/v1/edge-alerts/").json()["results"]] == [alert_id]
    patched = user_client.patch(
        f"/api/v1/edge-alerts/{alert_id}/", {"is_active": False, "name": "Arbs"}, format="json"
    )
    assert (patched.status_code, patched.json()["is_active"], patched.json()["name"]) == (200, False, "Arbs")

    stranger = token_client_for(UserFactory())
    for method in ("get", "patch", "delete"):
        response = getattr(stranger, method)(f"/api/v1/edge-alerts/{alert_id}/", {}, format="json")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert stranger.get("/api/v1/edge-alerts/").json()["results"] == []
    assert EdgeAlert.objects.get(pk=alert_id).name == "Arbs"  # untouched by the stranger

    assert user_client.delete(f"/api/v1/edge-alerts/{alert_id}/").status_code == 204
    assert not EdgeAlert.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "lottery"}, "kind"),
        ({"min_ev": "lots"}, "min_ev"),
        ({"min_ev": 11}, "min_ev"),
        ({"min_ev": "NaN"}, "min_ev"),
        ({"min_ev": True}, "min_ev"),
        ({"sport_key": "Not A Key"}, "sport_key"),
        ({"sport_key": "curling_world"}, "sport_key"),
        ({"sportsbook_key": "nobook"}, "sportsbook_key"),
        ({"send_email": "yes"}, "send_email"),
        ({"name": "x" * 81}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_api_refuses_bad_input_with_the_error_shape(user_client, body, field):
    books()
    response = user_client.post("/api/v1/edge-alerts/", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error" and field in error["details"]
    assert not EdgeAlert.objects.exists()


def test_api_refuses_a_duplicate_and_more_than_the_maximum(user_client, user):
    books()
    assert user_client.post("/api/v1/edge-alerts/", {"kind": "middle"}, format="json").status_code == 201
    duplicate = user_client.post("/api/v1/edge-alerts/", {"kind": "middle"}, format="json")
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (409, "conflict")
    for step in range(19):
        edge_alert_create(user=user, min_ev=step / 100)
    full = user_client.post("/api/v1/edge-alerts/", {"kind": "arbitrage"}, format="json")
    assert (full.status_code, full.json()["error"]["code"]) == (409, "limit_exceeded")
    assert EdgeAlert.objects.filter(user=user).count() == 20


def test_api_needs_a_signed_in_user(api_client):
    response = api_client.get("/api/v1/edge-alerts/")
    assert response.status_code in (401, 403) and "error" in response.json()


# --- the pages -------------------------------------------------------------------------


def test_the_boards_alert_button_saves_its_filter(client, user):
    books()
    SportFactory(key=NFL)
    client.force_login(user)
    board = client.get(
        "/edges/?sport=americanfootball_nfl&kind=positive_ev&min_ev=0.025&sportsbook=draftkings"
    )
    assert 'data-testid="alert-from-board"' in board.content.decode()
    response = client.post(
        "/edges/alerts/",
        {"sport_key": NFL, "kind": "positive_ev", "min_ev": "2.5", "sportsbook_key": "draftkings"},
    )
    assert response.status_code == 302
    alert = EdgeAlert.objects.get(user=user)
    assert (alert.sport_key, alert.kind, alert.min_ev, alert.sportsbook_key) == (
        NFL,
        "positive_ev",
        0.025,
        "draftkings",
    )
    page = client.get("/edges/alerts/").content.decode()
    assert alert.name in page and "No matches yet." in page
    # someone else's alert cannot be paused or deleted from the page
    intruder = UserFactory()
    client.force_login(intruder)
    assert client.post(f"/edges/alerts/{alert.pk}/delete/").status_code == 404
    assert client.post(f"/edges/alerts/{alert.pk}/toggle/").status_code == 404
    alert.refresh_from_db()
    assert alert.is_active
