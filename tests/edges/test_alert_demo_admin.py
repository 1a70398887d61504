"""The demo gives each bettor an edge alert; staff see alerts and notification emails in the admin."""

from __future__ import annotations

import io

import pytest

from edges import demo
from edges.alerts import edge_alert_create
from edges.models import EdgeAlert
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_demo_gives_each_bettor_one_alert_once(staff_user):
    bettor = UserFactory()
    out = io.StringIO()
    demo.seed(users=[staff_user, bettor], stdout=out)
    demo.seed(users=[staff_user, bettor], stdout=io.StringIO())
    alerts = list(EdgeAlert.objects.values_list("user_id", "kind", "min_ev"))
    assert alerts == [(bettor.pk, "positive_ev", 0.03)]
    assert "1 new edge alerts" in out.getvalue()


def test_staff_see_alerts_and_notification_emails_in_the_admin(client, django_user_model):
    admin = django_user_model.objects.create_superuser(email="root@example.com", password="x" * 12)
    client.force_login(admin)
    alert = edge_alert_create(user=UserFactory(), name="Arbs at FanDuel", kind="arbitrage")
    listing = client.get("/admin/edges/edgealert/")
    assert listing.status_code == 200 and "Arbs at FanDuel" in listing.content.decode()
    assert client.get(f"/admin/edges/edgealert/{alert.pk}/change/").status_code == 200
    assert client.get("/admin/users/emailnotification/").status_code == 200
