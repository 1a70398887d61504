"""In Chromium: an edge from the board into the slip, placed, seen in My bets, settled by
an ingest of results, with the wallet updated."""

import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command

from betting.models import Bet
from tests.betting.factories import make_edge, make_game
from tests.conftest import browser_log_in
from tests.wallet.factories import fund_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


def test_edge_to_slip_to_settled_bet(browser_page, user, tmp_path, live_server):
    page = browser_page
    game = make_game()
    edge = make_edge(game, "home_ml", "draftkings")  # +EV at draftkings 2.20
    fund_user(user, 100_000)
    browser_log_in(page, user, live_server.url)

    page.goto("/")
    row = page.locator(f'tr[data-edge-id="{edge.edge_id}"]')
    row.wait_for()
    slip_link = row.locator('a[href*="/bets/slip/"]')
    if slip_link.count():
        slip_link.first.click()
    else:  # the board links each edge to its slip by edge id
        page.goto(f"/bets/slip/?edge_id={edge.edge_id}")
    slip = page.get_by_test_id("bet-slip")
    slip.wait_for()
    assert page.get_by_test_id("slip-price").inner_text() == "+120"
    stake = page.get_by_test_id("slip-stake")
    assert re.fullmatch(r"\d+\.\d\d", stake.input_value())  # the Kelly stake is filled in
    stake.fill("10.00")
    assert page.get_by_test_id("slip-return").inner_text() == "22.00 USD"
    page.get_by_test_id("slip-place").click()
    page.get_by_test_id("slip-placed").wait_for()
    bet = Bet.objects.get(user=user)
    assert (bet.stake_minor, bet.odds_decimal, bet.edge_id) == (1000, Decimal("2.2"), edge.edge_id)

    page.goto("/bets/")
    assert page.locator(f'tr[data-bet-id="{bet.pk}"] [data-testid="bet-status"]').inner_text() == "Pending"

    scores = tmp_path / "scores.json"
    scores.write_text(
        json.dumps(
            [
                {
                    "id": game.event.provider_id,
                    "completed": True,
                    "home_team": "Chiefs",
                    "away_team": "Chargers",
                    "scores": [{"name": "Chiefs", "score": "27"}, {"name": "Chargers", "score": "20"}],
                }
            ]
        )
    )
    call_command("ingest_results", str(scores))
    page.goto("/bets/")
    row = page.locator(f'tr[data-bet-id="{bet.pk}"]')
    assert row.get_by_test_id("bet-status").inner_text() == "Win"
    assert row.get_by_test_id("bet-return").inner_text() == "22.00 USD"
    assert page.get_by_test_id("stat-profit").inner_text() == "12.00 USD"
    page.goto("/wallet/")
    assert "1,012.00" in page.get_by_test_id("balance-available").inner_text()
