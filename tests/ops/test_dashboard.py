"""The staff dashboard page: who may see it, where it is linked, what it shows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from tests.factories import UserFactory
from tests.ops.factories import bet

pytestmark = pytest.mark.django_db

URL = "/admin/ops/dashboard/"
PANELS = "/admin/ops/dashboard/panels/"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def dashboard_staff():
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_dashboard", content_type__app_label="ops")
    )
    return user


def test_anonymous_visitors_are_sent_to_the_login():
    response = Client().get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.parametrize("url", [URL, PANELS])
def test_staff_without_the_permission_are_refused(url):
    response = client_for(UserFactory(is_staff=True)).get(url)
    assert response.status_code == 403


def test_bettors_are_not_staff():
    response = client_for(UserFactory()).get(URL)
    assert response.status_code == 302  # the admin's login, as for any non-staff account


def test_the_admin_index_links_the_dashboard(dashboard_staff):
    page = client_for(dashboard_staff).get("/admin/").content.decode()
    assert "Operations dashboard" in page
    response = client_for(dashboard_staff).get("/admin/ops/dashboardsummary/")
    assert (response.status_code, response["Location"]) == (302, URL)
    without = client_for(UserFactory(is_staff=True)).get("/admin/").content.decode()
    assert "Operations dashboard" not in without


def test_the_page_refreshes_itself_without_inline_script(dashboard_staff):
    page = client_for(dashboard_staff).get(URL).content.decode()
    assert 'hx-get="/admin/ops/dashboard/panels/"' in page
    assert re.search(r'hx-trigger="every \d+s"', page)
    assert "/static/ops/dashboard.js" in page and "/static/vendor/htmx.min.js" in page
    # every script is a file: no inline code, no inline handlers (a strict CSP is coming)
    for match in re.finditer(r"<script([^>]*)>(.*?)</script>", page, flags=re.S):
        assert "src=" in match.group(1), match.group(0)[:200]
        assert match.group(2).strip() == ""
    assert not re.search(r"\son[a-z]+=", page)


def test_the_panels_show_the_hand_computed_figures(dashboard_staff):
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(seconds=1)
    alice = UserFactory()
    bet(alice, stake=1234, potential=3000, placed_at=today)
    bet(
        alice,
        stake=1000,
        potential=2000,
        placed_at=today,
        status="settled",
        result="loss",
        returned=0,
        settled_at=today,
    )
    response = client_for(dashboard_staff).get(PANELS)
    assert response.status_code == 200
    html = response.content.decode()
    today_row = re.search(r'<tr data-period="today" data-currency="USD">(.*?)</tr>', html, flags=re.S).group(
        1
    )
    assert re.search(r'data-field="handle">22\.34<', today_row)
    assert re.search(r'data-field="profit">\+10\.00<', today_row)
    assert re.search(r'data-field="exposure">17\.66<', today_row)
    assert 'data-testid="tile-handle">22.34' in html
    assert 'data-testid="tile-ledger">Balanced' in html
    assert "<html" not in html  # a fragment, swapped into the page


def test_the_empty_dashboard_says_so(dashboard_staff):
    html = client_for(dashboard_staff).get(PANELS).content.decode()
    assert "No bets yet." in html
    assert "No active edges right now." in html
    assert "Every event has been relayed." in html


def test_the_snapshot_is_shared_for_a_few_seconds(settings):
    from betthat.ops import selectors

    settings.OPS_DASHBOARD_CACHE_SECONDS = 30
    first = selectors.dashboard_snapshot_cached()
    UserFactory()
    again = selectors.dashboard_snapshot_cached()
    assert again["now"] == first["now"]
    assert again["users"]["data"]["by_status"].total == first["users"]["data"]["by_status"].total
    settings.OPS_DASHBOARD_CACHE_SECONDS = 0
    fresh = selectors.dashboard_snapshot_cached()
    assert fresh["now"] > first["now"]
    assert fresh["users"]["data"]["by_status"].total == first["users"]["data"]["by_status"].total + 1
