"""One odds conversion (issue 20, item 9) in the browser: a price of 2.125 (American 112.5,
the tie the old code rounded two ways) reads +113 on the board, the event page, the slip and
the placed bet's page, and the bet stores 113."""

from __future__ import annotations

from decimal import Decimal

import pytest

from betting.models import Bet
from edges import pricing
from tests.betting.factories import make_edge, make_game, set_price
from tests.conftest import browser_log_in
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_price_of_2_125_reads_plus_113_on_the_board_the_slip_and_the_bet(
    browser_page, live_server, settings
):
    settings.OUTBOX_NUDGE = False
    user = UserFactory()
    fund_user(user, 100_000)
    game = make_game()
    quote = set_price(game.o("home_ml"), "draftkings", pricing.parse_price("2.125")[0])
    assert quote.price_american == 113
    edge = make_edge(game, "home_ml", "draftkings")
    page = browser_page
    browser_log_in(page, user, live_server.url)

    page.goto("/")
    row = page.locator(f'tr[data-edge-id="{edge.edge_id}"]')
    assert row.locator('[data-col="price"]').inner_text() == "+113"
    page.goto(f"/events/{game.event.pk}/")
    cell = page.locator(f'[data-quote="{game.o("home_ml").pk}:draftkings"]')
    assert cell.inner_text().startswith("+113")

    page.goto("/")
    page.locator(f'tr[data-edge-id="{edge.edge_id}"] [data-testid=bet-edge]').click()
    page.get_by_test_id("slip-stake").wait_for()
    assert page.get_by_test_id("slip-price").inner_text() == "+113"
    page.get_by_test_id("slip-stake").fill("10.00")
    page.get_by_test_id("slip-place").click()
    page.get_by_test_id("slip-placed").wait_for()

    bet = Bet.objects.get(user=user)
    assert (bet.odds_decimal, bet.odds_american, bet.stake_minor) == (Decimal("2.125"), 113, 1000)
    page.goto(f"/bets/{bet.pk}/")
    assert page.get_by_test_id("bet-price").inner_text() == "+113"
