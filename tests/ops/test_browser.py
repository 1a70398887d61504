"""The operations dashboard in Chromium, as staff: figures, charts, and the panels refreshing
themselves when the data moves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests.betting.factories import make_edge, make_game
from tests.conftest import browser_log_in
from tests.factories import UserFactory
from tests.ops.factories import bet

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


def test_staff_watch_the_dashboard_refresh_itself(browser_page, live_server, settings):
    settings.OPS_DASHBOARD_REFRESH_SECONDS = 1
    settings.OPS_DASHBOARD_CACHE_SECONDS = 0  # every refresh reads the database
    page = browser_page
    errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(f"{message.text} {message.location.get('url')}")
            if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        Permission.objects.get(codename="view_dashboard", content_type__app_label="ops")
    )
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(seconds=1)
    bettor = UserFactory()
    bet(bettor, stake=1500, potential=3000, placed_at=today)
    bet(
        bettor,
        stake=500,
        potential=1000,
        placed_at=today,
        status="settled",
        result="loss",
        returned=0,
        settled_at=today,
    )
    game = make_game()
    make_edge(game, "home_ml", "draftkings")
    browser_log_in(page, staff, live_server.url)

    page.goto("/admin/")
    page.get_by_role("link", name="Operations dashboard", exact=True).click()
    page.wait_for_url("**/admin/ops/dashboard/")
    assert page.get_by_test_id("tile-handle").inner_text().startswith("20.00")
    assert page.get_by_test_id("tile-profit").inner_text().startswith("+5.00")
    assert page.get_by_test_id("tile-edges").inner_text() == "1"
    assert page.get_by_test_id("tile-ledger").inner_text() == "Balanced"
    assert page.get_by_test_id("bets-by-status").is_visible()
    assert page.get_by_test_id("edges-by-kind").is_visible()
    assert page.get_by_test_id("profit-chart").is_visible()
    assert page.get_by_test_id("handle-chart").is_visible()
    assert page.locator('tr[data-book="pinnacle"]').get_attribute("data-stale") == "false"
    assert page.get_by_test_id("ops-live").get_attribute("data-state") == "live"

    # the data moves; the page follows by itself within a refresh or two
    bet(bettor, stake=2500, potential=5000, placed_at=today)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=tile-handle]').textContent.trim().startsWith('45.00')",
        timeout=10000,
    )
    assert page.get_by_test_id("ops-live").get_attribute("data-state") == "live"

    # on a phone the page fits its width
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.getElementById('ops-panels').getBoundingClientRect().right") <= 390
    assert page.get_by_test_id("tile-handle").is_visible()
    assert errors == []
