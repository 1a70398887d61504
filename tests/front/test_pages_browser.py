"""Every page a bettor or staff member uses, in Chromium at 390 px (a phone) and 1400 px:
no page-level sideways scrolling, the Bet button on screen, and axe-core finds no serious or
critical accessibility violation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from betting.models import Bet
from edges.models import Edge, Sportsbook
from tests.betting.factories import make_edge, make_game
from tests.betting.helpers import leg, place
from tests.conftest import browser_log_in
from tests.factories import PASSWORD
from tests.front.conftest import axe_violations, page_overflow
from tests.wallet.factories import fund_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def make_arbitrage(game) -> Edge:
    """An arbitrage across two books on the moneyline, as the finder stores one."""
    home, away = game.o("home_ml"), game.o("away_ml")
    now = timezone.now()
    legs = [
        {
            "outcome_id": home.pk,
            "market_id": home.market_id,
            "outcome": home.name,
            "point": None,
            "sportsbook": "draftkings",
            "sportsbook_title": "DraftKings",
            "price_decimal": "2.20",
            "price_american": 120,
            "stake_share": 0.45,
        },
        {
            "outcome_id": away.pk,
            "market_id": away.market_id,
            "outcome": away.name,
            "point": None,
            "sportsbook": "fanduel",
            "sportsbook_title": "FanDuel",
            "price_decimal": "1.85",
            "price_american": -118,
            "stake_share": 0.55,
        },
    ]
    return Edge.objects.create(
        edge_id=f"a{home.market_id:08x}",  # hex, like the finder's ids
        kind=Edge.Kind.ARBITRAGE,
        sport_key=game.event.sport.key,
        event=game.event,
        market=home.market,
        market_type="h2h",
        side=f"{home.name} / {away.name}",
        best_odds_american=120,
        best_odds_decimal=Decimal("2.20"),
        fair_probability=None,
        edge_percentage=0.0048,
        expected_value_per_dollar=0.0048,
        kelly_fraction=0.0,
        legs=legs,
        oldest_quote_at=now,
        stale_after=now + timedelta(minutes=5),
        expires_at=now + timedelta(hours=1),
    )


@pytest.fixture
def world(user, staff_user):
    game = make_game()
    ev = make_edge(game, "home_ml", "draftkings")
    arb = make_arbitrage(game)
    fund_user(user, 100_000)
    place(user, leg(game.o("home_ml")), stake=1000)
    assert Bet.objects.filter(user=user).count() == 1
    staff_user.is_superuser = True
    staff_user.save(update_fields=["is_superuser"])
    return {"game": game, "ev": ev, "arb": arb, "outcome": game.o("home_ml").pk}


BETTOR_PAGES = [
    # (name, path template, selector that must be fully on screen horizontally)
    ("board", "/", "[data-testid=bet-edge]"),
    ("event", "/events/{event}/", "a.quote-link"),
    ("legs calculator", "/edges/{arb}/", "[data-testid=bet-leg]"),
    ("+EV edge", "/edges/{ev}/", "[data-testid=edge-state]"),
    ("slip", "/bets/slip/?edge_id={ev}", "[data-testid=slip-place]"),
    ("my bets", "/bets/", "[data-testid=bet-table] [data-bet-id]"),
    ("statistics", "/bets/stats/", None),
    ("wallet", "/wallet/", "[data-testid=deposit-submit]"),
    ("wallet history", "/wallet/history/", None),
    ("deposit limits", "/wallet/limits/", None),
    ("bet limits", "/bets/responsible/", None),
    ("settings", "/account/settings/", None),
    ("edge alerts", "/edges/alerts/", "[data-testid=alert-form] button[type=submit]"),
    ("find people", "/people/?q=demo", "[data-testid=people-search] button[type=submit]"),
    ("leaderboards", "/leaderboards/", "[data-testid=people-search] button[type=submit]"),
    ("empty feed", "/feed/", "[data-testid=people-search] button[type=submit]"),
    ("glossary", "/glossary/", None),
    ("email", "/accounts/email/", None),
    ("password", "/accounts/password/change/", None),
    ("two-factor", "/accounts/2fa/", None),
]
STAFF_PAGES = [
    ("admin index", "/admin/"),
    ("admin users", "/admin/users/user/"),
    ("admin user form", "/admin/users/user/{staff}/change/"),
    ("admin bets", "/admin/betting/bet/"),
    ("ledger health", "/admin/wallet/account/ledger-health/"),
    ("exposure", "/admin/betting/bet/exposure/"),
]
PUBLIC_PAGES = [
    ("landing", "/"),
    ("log in", "/accounts/login/"),
    ("sign up", "/accounts/signup/"),
    ("password reset", "/accounts/password/reset/"),
]


def _on_screen(page, selector: str, width: int) -> str | None:
    locator = page.locator(selector).first
    if locator.count() == 0:
        return f"{selector} is missing"
    # scroll the window down to it, never a sideways scroller (that would hide the problem)
    locator.evaluate("el => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 100)")
    box = locator.bounding_box()
    if box is None or box["width"] == 0:
        return f"{selector} is not visible"
    if box["x"] < 0 or box["x"] + box["width"] > width + 0.5:
        return f"{selector} is off screen sideways: x={box['x']:.0f} w={box['width']:.0f}"
    return None


@pytest.mark.parametrize("width", [390, 1400])
def test_pages_fit_the_screen_and_pass_axe(watched_page, live_server, world, user, staff_user, width):
    page = watched_page
    page.set_viewport_size({"width": width, "height": 900})
    ids = {
        "event": world["game"].event.pk,
        "arb": world["arb"].edge_id,
        "ev": world["ev"].edge_id,
        "staff": staff_user.pk,
    }
    problems: list[str] = []

    def visit(name: str, path: str, must_show: str | None = None) -> None:
        response = page.goto(path.format(**ids))
        if response.status != 200:
            problems.append(f"{name}: HTTP {response.status}")
            return
        page.wait_for_load_state("networkidle")
        overflow = page_overflow(page)
        if overflow > 0:
            problems.append(f"{name} @ {width}px scrolls sideways by {overflow}px")
        if must_show and (why := _on_screen(page, must_show, width)):
            problems.append(f"{name} @ {width}px: {why}")
        if csp := page.evaluate("() => window.__csp"):
            problems.append(f"{name}: the CSP refused {csp}")
        for v in axe_violations(page):
            problems.append(f"{name} @ {width}px axe {v['impact']} {v['id']}: {v['help']} {v['nodes'][:2]}")

    for name, path in PUBLIC_PAGES:
        visit(name, path)
    browser_log_in(page, user, live_server.url)
    for name, path, must_show in BETTOR_PAGES:
        visit(name, path, must_show)
    if width == 1400:
        page.context.clear_cookies()
        browser_log_in(page, staff_user, live_server.url)
        for name, path in STAFF_PAGES:
            visit(name, path)
    assert not problems, "\n".join(problems)


def test_the_phone_menu_is_a_named_button_and_the_skip_link_works(browser_page, live_server, user):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 800})
    browser_log_in(page, user, live_server.url)
    page.goto("/bets/")
    menu = page.get_by_role("button", name="Menu")
    assert menu.is_visible() and menu.get_attribute("aria-expanded") == "false"
    assert page.locator("#site-nav").is_hidden()
    # keyboard only: the first Tab lands on the skip link, which moves focus to the content
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    menu.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    assert page.get_by_role("link", name="Wallet").is_visible()
    page.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false"
    assert page.locator("#site-nav").is_hidden()


def test_a_bettor_with_the_keyboard_alone_goes_from_the_board_to_a_placed_bet(
    browser_page, live_server, user
):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 800})
    game = make_game()
    edge = make_edge(game, "home_ml", "draftkings")
    Sportsbook.objects.filter(key="draftkings").update(title="DraftKings")
    fund_user(user, 100_000)
    browser_log_in(page, user, live_server.url)
    page.goto("/")
    bet = page.locator(f'tr[data-edge-id="{edge.edge_id}"] [data-testid=bet-edge]')
    for _ in range(80):  # Tab until the row's Bet button has focus
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.dataset.testid") == "bet-edge":
            break
    assert page.evaluate("() => document.activeElement.closest('tr').dataset.edgeId") == edge.edge_id
    assert bet.is_visible()
    page.keyboard.press("Enter")
    page.get_by_test_id("slip-stake").wait_for()
    page.get_by_test_id("slip-stake").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("10.00")
    page.keyboard.press("Enter")  # submits the slip form
    page.get_by_test_id("slip-placed").wait_for()
    assert Bet.objects.get(user=user).stake_minor == 1000


def test_odds_follow_the_users_format_on_every_page(browser_page, live_server, user):
    page = browser_page
    game = make_game()
    edge = make_edge(game, "home_ml", "draftkings")  # 2.20 at draftkings
    fund_user(user, 100_000)
    user.preferences = {**user.preferences, "ui": {"odds_format": "fractional"}}
    user.save(update_fields=["preferences"])
    browser_log_in(page, user, live_server.url)
    page.goto("/")
    row = page.locator(f'tr[data-edge-id="{edge.edge_id}"]')
    assert row.locator('[data-col="price"]').inner_text() == "6/5"
    assert row.locator('[data-col="fair"]').inner_text() == "1/1"
    page.goto(f"/bets/slip/?edge_id={edge.edge_id}")
    assert page.get_by_test_id("slip-price").inner_text() == "6/5"
    page.goto(f"/events/{game.event.pk}/")
    cell = page.locator(f'[data-quote="{game.o("home_ml").pk}:draftkings"]')
    assert cell.inner_text().startswith("6/5")
    # the browser's formatter agrees with the server's on every price it shows
    user.preferences = {**user.preferences, "ui": {"odds_format": "decimal"}}
    user.save(update_fields=["preferences"])
    page.goto("/")
    assert page.locator(f'tr[data-edge-id="{edge.edge_id}"] [data-col="price"]').inner_text() == "2.200"
    js = page.evaluate(
        """() => ["2.5", "1.909091", "11", "1.3333"].map(p => {
            document.documentElement.dataset.oddsFormat = "fractional"; const f = BT.fmt.odds(p);
            document.documentElement.dataset.oddsFormat = "american"; const a = BT.fmt.odds(p);
            return [f, a]; })"""
    )
    assert js == [["3/2", "+150"], ["10/11", "-110"], ["10/1", "+1000"], ["1/3", "-300"]]


def test_the_board_filters_take_percents_as_the_table_shows_them(browser_page, live_server, user):
    page = browser_page
    game = make_game()
    make_edge(game, "home_ml", "draftkings")  # edge 4.5%, EV 10%
    browser_log_in(page, user, live_server.url)
    page.goto("/edges/")
    page.get_by_label("Min edge (%)").fill("2")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**min_edge=0.02**")
    assert page.locator(".error").count() == 0  # no raw form error, the filter is kept
    assert page.get_by_label("Min edge (%)").input_value() == "2"
    assert page.locator("#edge-board tbody tr[data-edge-id]").count() == 1
    page.get_by_label("Min edge (%)").fill("5")  # above the edge's 4.5%
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**min_edge=0.05**")
    assert page.locator("#edge-board tbody tr[data-edge-id]").count() == 0


def test_a_refused_withdrawal_shows_the_error_beside_the_field_and_keeps_the_amount(
    browser_page, live_server, user
):
    page = browser_page
    fund_user(user, 5_000)
    browser_log_in(page, user, live_server.url)
    page.goto("/wallet/")
    page.fill("#withdraw-amount", "12,5")  # not plain decimal: caught where it is typed
    page.click("[data-testid=withdraw-submit]")
    assert "plain digits" in page.get_by_test_id("withdraw-error").inner_text()
    assert page.url.endswith("/wallet/")
    page.fill("#withdraw-amount", "999.00")  # more than the balance: refused by the server
    page.click("[data-testid=withdraw-submit]")
    page.wait_for_url("**/accounts/reauthenticate/**")  # money leaves only after the password
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url("**/wallet/#withdraw")
    assert page.get_by_test_id("withdraw-error").inner_text().startswith("Withdrawal refused")
    assert page.input_value("#withdraw-amount") == "999.00"
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.id === 'withdraw-amount'", timeout=3000
    )
