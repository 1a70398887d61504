"""The board in a real browser updates live while the demo feed runs."""

from __future__ import annotations

import time

import pytest

from edges import demo
from edges.simulator import Simulator
from tests.conftest import browser_log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_board_updates_live_while_the_feed_runs(browser_page, asgi_server, user):
    page = browser_page
    browser_log_in(page, user, asgi_server)
    demo.seed(users=[user], stdout=open("/dev/null", "w"))  # noqa: SIM115
    page.goto(asgi_server + "/")
    page.wait_for_function("() => document.getElementById('board-status').textContent.startsWith('live')")
    # The demo's seed prices its slate once (docs/edges.md), so edges may already show; what
    # this test follows is the board changing live while the feed runs.

    simulator = Simulator(events=8, seed=7, volatility=3.0)
    simulator.tick()  # adopts the seeded events
    simulator.tick()  # every book quotes: edges appear
    page.wait_for_selector("#edge-board tbody tr[data-edge-id]", timeout=15_000)
    assert page.locator("#board-empty").is_hidden()
    rows = page.locator("#edge-board tbody tr[data-edge-id]")
    first_versions = dict(
        zip(
            rows.evaluate_all("rs => rs.map(r => r.dataset.edgeId)"),
            rows.evaluate_all("rs => rs.map(r => Number(r.dataset.version))"),
            strict=True,
        )
    )
    assert page.locator("#edge-board .badge").first.text_content() in {"Arbitrage", "+EV", "Middle"}

    changed = False
    for _ in range(15):
        simulator.tick()
        time.sleep(0.3)
        now = dict(
            zip(
                rows.evaluate_all("rs => rs.map(r => r.dataset.edgeId)"),
                rows.evaluate_all("rs => rs.map(r => Number(r.dataset.version))"),
                strict=True,
            )
        )
        if set(now) != set(first_versions) or any(now[k] > v for k, v in first_versions.items() if k in now):
            changed = True
            break
    assert changed, "the board did not change while the feed ran"
    # no page reload happened: the socket status is still the live one
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


@pytest.mark.celery_worker
def test_an_alert_saved_from_the_board_shows_a_matching_new_edge_in_the_page(
    browser_page, asgi_server, user, celery_worker_process
):
    """Save "alert me on this filter" from the board; a feed tick then finds a matching
    edge; a real worker matches it and the open page shows the alert (toast and list)."""
    from edges.feeds.odds_api import ingest_v4
    from edges.models import EdgeAlert
    from tests.edges.factories import FILE_TIME, SportFactory, books, load

    books()
    SportFactory(key="americanfootball_nfl")
    celery_worker_process(queues="odds")
    page = browser_page
    browser_log_in(page, user, asgi_server)
    page.goto(
        asgi_server + "/edges/?sport=americanfootball_nfl&kind=positive_ev&min_ev=0.02&sportsbook=draftkings"
    )
    page.click("[data-testid=alert-me]")
    page.wait_for_url(asgi_server + "/edges/alerts/")
    assert page.locator("[data-testid=alert-row]").count() == 1
    alert = EdgeAlert.objects.get(user=user)
    assert (alert.sport_key, alert.kind, alert.min_ev, alert.sportsbook_key) == (
        "americanfootball_nfl",
        "positive_ev",
        0.02,
        "draftkings",
    )
    page.wait_for_function("() => document.body.dataset.notifications === 'live'")

    ingest_v4(load("nfl_decimal.json"), now=FILE_TIME)  # commits; the alert task goes to the worker

    toast = page.locator("#toasts .toast", has_text="New edge for")
    toast.wait_for(timeout=30_000)
    assert "Los Angeles Chargers at DraftKings (EV 2.7%)" in toast.text_content()
    hits = page.locator("[data-testid=alert-hit]")
    assert hits.count() == 1
    assert hits.first.text_content().startswith(
        "Los Angeles Chargers @ Kansas City Chiefs: Los Angeles Chargers"
    )
