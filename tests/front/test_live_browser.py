"""Live updates that do not fight the user: the board keeps keyboard focus and row order
through updates, and an event page's prices stay clickable (and a suspended price is never
best nor bettable) as quotes change."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from edges import demo
from edges.ingest import QuoteUpdate, ingest_updates
from edges.simulator import Simulator
from tests.betting.factories import make_game
from tests.conftest import browser_log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VERSIONS = "() => Array.from(document.querySelectorAll('#edge-board tbody tr[data-edge-id]')).map(r => r.dataset.edgeId + ':' + r.dataset.version).join(',')"


def test_a_focused_board_row_keeps_focus_and_place_through_live_updates(browser_page, asgi_server, user):
    page = browser_page
    browser_log_in(page, user, asgi_server)
    demo.seed(users=[user], stdout=open("/dev/null", "w"))  # noqa: SIM115
    page.goto(asgi_server + "/")
    page.wait_for_function("() => document.getElementById('board-status').textContent.startsWith('live')")
    simulator = Simulator(events=8, seed=11, volatility=3.0)
    simulator.tick()
    simulator.tick()
    page.wait_for_selector("#edge-board tbody tr[data-edge-id]", timeout=15_000)

    # keyboard only: Tab until focus is on a link inside a board row
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("() => !!document.activeElement.closest('#edge-board tbody tr')"):
            break
    page.evaluate(
        """() => { window.__focused = document.activeElement;
                   window.__row = window.__focused.closest('tr');
                   window.__index = Array.from(window.__row.parentNode.children).indexOf(window.__row); }"""
    )
    assert page.evaluate("() => window.__row.dataset.edgeId")

    updates = 0
    before = page.evaluate(VERSIONS)
    deadline = time.monotonic() + 60
    while updates < 4 and time.monotonic() < deadline:
        simulator.tick()
        try:  # a live update reached the board (some row's version or the row set changed)
            page.wait_for_function(f"(before) => ({VERSIONS})() !== before", arg=before, timeout=3_000)
        except PlaywrightTimeout:  # a tick that moved no edge: tick again
            continue
        updates += 1
        before = page.evaluate(VERSIONS)
        state = page.evaluate(
            """() => ({same: document.activeElement === window.__focused,
                       connected: window.__focused.isConnected,
                       index: Array.from(window.__row.parentNode.children).indexOf(window.__row)})"""
        )
        assert state == {"same": True, "connected": True, "index": page.evaluate("() => window.__index")}, (
            state
        )
    assert updates >= 4, "the board received too few live updates to judge"
    # the row count in the header is the number of rows shown
    status = page.locator("#board-status").inner_text()
    shown = page.locator("#edge-board tbody tr[data-edge-id]:not(.closed)").count()
    assert status == f"live · {shown} edge{'s' if shown != 1 else ''}", status


def _update(game, alias: str, book: str, price: str, *, suspended: bool = False) -> None:
    outcome = game.o(alias)
    decimal = Decimal(price)
    american = int((decimal - 1) * 100) if decimal >= 2 else int(-100 / (decimal - 1))
    ingest_updates(
        updates=[
            QuoteUpdate(
                event_provider_id=game.event.provider_id,
                book_key=book,
                market_key=outcome.market.key,
                outcome_name=outcome.name,
                price_decimal=decimal,
                price_american=american,
                last_update=timezone.now(),
                is_suspended=suspended,
            )
        ],
        now=timezone.now(),
    )


def test_a_live_price_update_leaves_the_price_clickable_and_a_suspended_price_is_never_best(
    browser_page, asgi_server, user
):
    page = browser_page
    game = make_game()  # Chiefs moneyline: pinnacle 2.10, draftkings 2.20, fanduel 2.05
    browser_log_in(page, user, asgi_server)
    page.goto(f"{asgi_server}/events/{game.event.pk}/")
    home = game.o("home_ml").pk
    cell = lambda book: page.locator(f'[data-quote="{home}:{book}"]')  # noqa: E731
    assert cell("draftkings").locator("a.quote-link").count() == 1
    links_before = page.locator("a.quote-link").count()
    page.wait_for_selector("[data-event-grid][data-live=true]", state="attached")  # subscribed

    _update(game, "home_ml", "draftkings", "2.30")
    page.wait_for_function(
        f"() => document.querySelector('[data-quote=\"{home}:draftkings\"]').dataset.price.startsWith('2.3')"
    )
    link = cell("draftkings").locator("a.quote-link")
    assert link.count() == 1, "the update removed the link from the price"
    assert link.inner_text() == "+130"
    assert "outcome_id=" in link.get_attribute("href")
    assert "best" in cell("draftkings").get_attribute("class")
    assert page.locator("a.quote-link").count() == links_before

    # a suspended price, even the highest, is greyed, not a link and not best
    _update(game, "home_ml", "fanduel", "3.00", suspended=True)
    page.wait_for_function(
        f"() => document.querySelector('[data-quote=\"{home}:fanduel\"]').dataset.suspended === 'true'"
    )
    assert cell("fanduel").locator("a").count() == 0
    assert "best" not in cell("fanduel").get_attribute("class")
    assert "best" in cell("draftkings").get_attribute("class")

    # reloading agrees with the live view: the server never stars a suspended price either
    page.reload()
    assert cell("fanduel").locator("a").count() == 0
    assert "best" not in cell("fanduel").get_attribute("class")
    assert "best" in cell("draftkings").get_attribute("class")

    # back from suspension: bettable again, with its link
    # the reloaded page subscribed
    page.wait_for_selector("[data-event-grid][data-live=true]", state="attached")
    _update(game, "home_ml", "fanduel", "2.25")
    page.wait_for_function(
        f"() => document.querySelector('[data-quote=\"{home}:fanduel\"]').dataset.suspended === 'false'"
    )
    assert cell("fanduel").locator("a.quote-link").count() == 1


def test_a_price_that_moves_before_the_page_subscribes_catches_up_from_the_snapshot(
    browser_page, asgi_server, user
):
    """The page renders, then its socket subscribes: a price that moves in between is not in
    the page and was published before the socket listened. The subscription's snapshot brings
    it, and prices that did not move get no change cue."""
    page = browser_page
    game = make_game()  # Chiefs moneyline: pinnacle 2.10, draftkings 2.20, fanduel 2.05
    browser_log_in(page, user, asgi_server)
    held: dict = {"sent": []}

    def hold(route):  # the page's socket opens, but reaches the server only when we say
        held["route"] = route
        route.on_message(lambda message: held["sent"].append(message))

    page.route_web_socket(re.compile(r"/ws/odds/$"), hold)
    page.goto(f"{asgi_server}/events/{game.event.pk}/")
    home = game.o("home_ml").pk
    deadline = time.monotonic() + 10
    while not held["sent"] and time.monotonic() < deadline:
        page.wait_for_timeout(20)  # lets Playwright deliver the page's subscribe to `hold`
    assert held["sent"] and '"subscribe"' in held["sent"][0]
    assert page.locator(f'[data-quote="{home}:draftkings"]').get_attribute("data-price") == "2.200000"

    _update(game, "home_ml", "draftkings", "2.40")  # published to nobody: the page is not subscribed yet
    _update(game, "home_ml", "fanduel", "3.00", suspended=True)
    server = held["route"].connect_to_server()
    for message in held["sent"]:
        server.send(message)
    held["route"].on_message(lambda message: server.send(message))
    page.wait_for_selector("[data-event-grid][data-live=true]", state="attached")

    draftkings = page.locator(f'[data-quote="{home}:draftkings"]')
    assert draftkings.get_attribute("data-price") == "2.400000"
    assert draftkings.locator("a.quote-link").inner_text() == "+140"
    assert "best" in draftkings.get_attribute("class")
    fanduel = page.locator(f'[data-quote="{home}:fanduel"]')
    assert fanduel.get_attribute("data-suspended") == "true" and fanduel.locator("a").count() == 0
    # only the two moved prices got the change cue
    changed = page.locator("[data-quote].changed").evaluate_all("cs => cs.map(c => c.dataset.quote).sort()")
    assert changed == sorted([f"{home}:draftkings", f"{home}:fanduel"])


def test_held_changes_wait_behind_a_notice_until_the_user_shows_them(browser_page, asgi_server, user):
    page = browser_page
    browser_log_in(page, user, asgi_server)
    demo.seed(users=[user], stdout=open("/dev/null", "w"))  # noqa: SIM115
    page.goto(asgi_server + "/")
    page.wait_for_function("() => document.getElementById('board-status').textContent.startsWith('live')")
    page.get_by_test_id("board-pause").click()  # hold the order (as the pointer on the board would)
    assert page.get_by_test_id("board-pause").get_attribute("aria-pressed") == "true"

    simulator = Simulator(events=8, seed=7, volatility=3.0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not page.get_by_test_id("board-pending").is_visible():
        simulator.tick()
        time.sleep(0.3)
    pending = page.get_by_test_id("board-pending")
    assert pending.is_visible(), "no change was held"
    assert "new edge" in pending.inner_text() or "changed order" in pending.inner_text()
    shown_before = page.locator("#edge-board tbody tr[data-edge-id]").count()

    page.get_by_test_id("board-apply").click()
    assert page.get_by_test_id("board-pending").is_hidden()
    rows = page.locator("#edge-board tbody tr[data-edge-id]")
    assert rows.count() >= shown_before
    # after "Show them" the board is in its order again: expected value, highest first
    evs = rows.evaluate_all("rs => rs.map(r => parseFloat(r.querySelector('[data-col=ev]').textContent))")
    assert evs == sorted(evs, reverse=True), evs
    status = page.locator("#board-status").inner_text()
    assert status == f"live · {rows.count()} edge{'s' if rows.count() != 1 else ''}"
