"""Server-rendered pages: closed is closed, one unit per column, names from the registry,
dates in the viewer's zone, one name per payment state, event markets grouped."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from edges.models import Edge, Event, Market, Outcome
from tests.betting.factories import make_edge, make_game, set_price
from tests.betting.helpers import leg, place
from tests.factories import PASSWORD
from tests.wallet.factories import fund_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def bettor(user):
    fund_user(user, 100_000)
    return user


@pytest.fixture
def browser(bettor):
    client = Client()
    client.force_login(bettor)
    return client


def test_an_expired_edge_says_closed_first_and_offers_no_bet(browser):
    game = make_game()
    edge = make_edge(game, "home_ml", "draftkings")
    edge.legs = [
        {
            "outcome_id": game.o("home_ml").pk,
            "outcome": "Chiefs",
            "sportsbook": "draftkings",
            "sportsbook_title": "DraftKings",
            "price_decimal": "2.20",
            "price_american": 120,
        }
    ]
    edge.save(update_fields=["legs"])
    open_html = browser.get(f"/edges/{edge.edge_id}/").content.decode()
    assert 'data-testid="bet-leg"' in open_html and "Open." in open_html

    Edge.objects.filter(pk=edge.pk).update(status=Edge.Status.EXPIRED)
    html = browser.get(f"/edges/{edge.edge_id}/").content.decode()
    assert html.index('data-testid="edge-state"') < html.index("edge-figures")  # the state comes first
    assert "Closed." in html and 'data-testid="bet-leg"' not in html
    assert "edge-figures is-closed" in html  # no green figures
    assert not re.search(r"[\d.]+ USD</span><span class=\"label\">your stake", html)  # no stake offered

    # the event started: closed too, whatever the edge row says
    Edge.objects.filter(pk=edge.pk).update(status=Edge.Status.ACTIVE)
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(minutes=1))
    assert 'data-testid="bet-leg"' not in browser.get(f"/edges/{edge.edge_id}/").content.decode()


def test_a_slip_for_a_closed_market_cannot_be_placed_and_negative_ev_warns(browser):
    game = make_game()
    url = f"/bets/slip/?outcome_id={game.o('away_ml').pk}&sportsbook=draftkings"
    html = browser.get(url).content.decode()
    # away at draftkings 1.72 is below its fair price: a warning, not a block
    assert 'data-testid="slip-negative-ev"' in html
    assert re.search(r'data-testid="slip-place"\s*>Place bet', html)

    Market.objects.filter(pk=game.markets["h2h"].pk).update(is_suspended=True)
    html = browser.get(url).content.decode()
    assert 'data-testid="slip-closed"' in html and 'data-closed="true"' in html
    assert re.search(r'data-testid="slip-place" disabled aria-disabled="true"', html)
    assert 'data-testid="slip-negative-ev"' not in html  # the state that matters is said first


def test_the_board_labels_units_and_names_markets_and_books(browser):
    game = make_game()
    make_edge(game, "home_ml", "draftkings")
    html = browser.get("/edges/").content.decode()
    assert "Edge %" in html and "EV %" in html and "Stake (USD)" in html and "Fair price" in html
    assert ">Moneyline<" in html and ">h2h<" not in html
    assert ">DraftKings<" in html
    # percents in the filter, as the table shows them
    assert 'data-percent-of="min_edge"' in html
    html = browser.get("/edges/?min_edge=0.025").content.decode()
    assert re.search(r'data-percent-of="min_edge" value="2.5"', html)


def test_event_markets_are_grouped_with_a_jump_menu(browser):
    game = make_game()
    extra = Market.objects.create(event=game.event, key="alternate_spreads", point=None, player="")
    outcome = Outcome.objects.create(market=extra, name="Chiefs", point=-7)
    set_price(outcome, "draftkings", "3.10")
    html = browser.get(f"/events/{game.event.pk}/").content.decode()
    assert 'aria-label="Markets on this page"' in html
    headings = re.findall(r"<summary><h2>([^<]+) <span", html)
    assert headings == ["Main lines", "Alternate lines", "Props · Patrick Mahomes"]
    assert html.count('<details class="market-group"') == 3
    assert re.search(r'id="group-0" open', html) and not re.search(r'id="group-1" open', html)
    assert (
        "Player passing yards" in html and "player_pass_yds" not in html.split("<main")[1].split("</main>")[0]
    )


def test_a_suspended_price_is_never_best_nor_a_link(browser):
    game = make_game()
    set_price(game.o("home_ml"), "fanduel", "3.50", suspended=True)  # the highest, but suspended
    html = browser.get(f"/events/{game.event.pk}/").content.decode()
    fanduel = re.search(
        rf'<td class="([^"]*)"[^>]*data-quote="{game.o("home_ml").pk}:fanduel"[^>]*>(.*?)</td>', html
    )
    assert "best" not in fanduel.group(1) and "<a" not in fanduel.group(2)
    draftkings = re.search(rf'<td class="([^"]*)"[^>]*data-quote="{game.o("home_ml").pk}:draftkings"', html)
    assert "best" in draftkings.group(1)


def test_dates_follow_the_viewers_time_zone(browser, bettor):
    game = make_game()
    place(bettor, leg(game.o("home_ml")), stake=1000)
    bettor.timezone = "Asia/Tokyo"
    bettor.save(update_fields=["timezone"])
    html = browser.get("/bets/").content.decode()
    placed = re.search(
        r'data-label="Placed">(?:<a [^>]*>#\d+</a> )?<time datetime="([^"]+)">([^<]+)</time>', html
    )
    local = timezone.localtime(
        timezone.datetime.fromisoformat(placed.group(1)),
        timezone=__import__("zoneinfo").ZoneInfo("Asia/Tokyo"),
    )
    assert placed.group(2) == f"{local.day} {local:%b %Y, %H:%M}"
    assert "times in Asia/Tokyo" in html


def test_a_payment_state_has_one_name(browser):
    html = browser.get("/wallet/").content.decode()
    assert "Succeeded" not in html
    payment_row = re.search(r'data-testid="payment-row".*?</tr>', html, re.S).group(0)
    history_row = re.search(r'data-testid="history-row" data-type="DEPOSIT".*?</tr>', html, re.S).group(0)
    assert ">Completed<" in payment_row and ">Completed<" in history_row
    assert "1,000.00 USD" in payment_row and "1,000.00 USD" in history_row


def test_wallet_refusals_sit_beside_their_field(browser):
    asked = browser.post(
        "/wallet/withdraw/", {"amount": "999999.00", "currency": "USD", "idempotency_key": "w-x"}
    )
    assert "/accounts/reauthenticate/" in asked["Location"]  # the password first, then the form resumes
    response = browser.post(asked["Location"], {"password": PASSWORD}, follow=True)
    html = response.content.decode()
    error = re.search(r'data-testid="withdraw-error" role="alert">([^<]*)<', html).group(1)
    assert error.startswith("Withdrawal refused")
    assert (
        'class="messages"' not in html
        or "Withdrawal refused" not in html.split('class="messages"')[1].split("</ul>")[0]
    )
    assert re.search(r'id="withdraw-amount"[^>]*aria-invalid="true"', html)
