"""Bets keep their edge (issue 20, item 8): a bet placed from an edge shows that edge (kind,
EV, edge %, fair price at placement) on its page and in the API after the edge expired with
its event and the cleanup deleted the row."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from edges.models import Edge
from edges.services import EXPIRED_RETENTION, cleanup_expired_edges, edges_expire_due
from tests.betting.factories import make_edge
from tests.betting.helpers import leg, place
from tests.conftest import browser_log_in
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = pytest.mark.django_db


def expire_and_clean_up(edge: Edge) -> None:
    """What the workers do: the event starts (the edge expires), the cleanup runs a week later."""
    started = edge.expires_at + timedelta(seconds=1)
    assert edges_expire_due(now=started) == 1
    assert cleanup_expired_edges(now=started + EXPIRED_RETENTION + timedelta(days=1)) == 1
    assert not Edge.objects.filter(edge_id=edge.edge_id).exists()


def test_the_bet_keeps_the_edge_after_it_expired_and_was_deleted(funded_user, game, token_client_for):
    edge = make_edge(game, "home_ml", "draftkings", kelly=0.12)
    bet = place(funded_user, leg(game.o("home_ml")), edge_id=edge.edge_id)
    # the edge moves on after the bet (same id, new numbers): the bet keeps those at placement
    Edge.objects.filter(pk=edge.pk).update(expected_value_per_dollar=0.01, fair_odds_decimal=Decimal("2.4"))
    expire_and_clean_up(edge)

    client = Client()
    client.force_login(funded_user)
    page = client.get(f"/bets/{bet.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="edge-kind">+EV<' in html
    assert 'data-testid="edge-ev">+10.00%<' in html
    assert 'data-testid="edge-percentage">4.50%<' in html
    assert 'data-testid="edge-fair">+100<' in html  # fair 2.000000 in American
    assert edge.edge_id in html

    body = token_client_for(funded_user).get(f"/api/v1/bets/{bet.pk}/").json()
    assert body["edge_id"] == edge.edge_id
    assert body["edge"]["kind"] == "positive_ev"
    assert body["edge"]["expected_value_per_dollar"] == 0.10
    assert body["edge"]["edge_percentage"] == 0.045
    assert body["edge"]["fair_odds_decimal"] == "2.000000"
    assert body["edge"]["kelly_fraction"] == 0.12
    assert body["edge"]["sportsbook"] == "draftkings"
    assert body["risk"]["fair_odds_decimal"] == "2.000000"


def test_a_bet_not_from_an_edge_says_so(funded_user, game, token_client_for):
    bet = place(funded_user, leg(game.o("home_ml")))
    client = Client()
    client.force_login(funded_user)
    html = client.get(f"/bets/{bet.pk}/").content.decode()
    assert 'data-testid="edge-none"' in html and 'data-testid="edge-kind"' not in html
    assert token_client_for(funded_user).get(f"/api/v1/bets/{bet.pk}/").json()["edge"] is None


def test_another_users_bet_page_is_not_found(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")))
    other = UserFactory()
    client = Client()
    client.force_login(other)
    assert client.get(f"/bets/{bet.pk}/").status_code == 404
    client.logout()
    assert client.get(f"/bets/{bet.pk}/").status_code == 302  # to the login page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_my_bets_links_to_the_bet_page_with_its_edge_after_cleanup(browser_page, live_server, game):
    user = UserFactory()
    fund_user(user, 100_000)
    edge = make_edge(game, "home_ml", "draftkings")
    bet = place(user, leg(game.o("home_ml")), edge_id=edge.edge_id)
    expire_and_clean_up(edge)
    page = browser_page
    browser_log_in(page, user, live_server.url)
    page.goto("/bets/")
    page.get_by_test_id("bet-link").first.click()
    page.wait_for_url(f"**/bets/{bet.pk}/")
    panel = page.get_by_test_id("bet-edge")
    assert panel.get_by_test_id("edge-kind").inner_text() == "+EV"
    assert panel.get_by_test_id("edge-ev").inner_text() == "+10.00%"
    assert panel.get_by_test_id("edge-fair").inner_text() == "+100"


def test_the_migration_copies_a_kept_edge_onto_a_bet_placed_before(funded_user, game):
    import importlib

    from django.apps import apps

    from betting.models import Bet

    edge = make_edge(game, "home_ml", "draftkings")
    bet = place(funded_user, leg(game.o("home_ml")), edge_id=edge.edge_id)
    gone = place(funded_user, leg(game.o("away_ml")), edge_id=edge.edge_id)
    Bet.objects.filter(pk__in=[bet.pk, gone.pk]).update(edge_snapshot=None)  # as placed before
    Bet.objects.filter(pk=gone.pk).update(edge_id="deleted0000000000000")  # its edge is gone
    migration = importlib.import_module("betting.migrations.0006_bet_edge_snapshot")
    migration.backfill(apps, None)
    bet.refresh_from_db()
    gone.refresh_from_db()
    assert bet.edge_snapshot["kind"] == "positive_ev" and bet.edge_snapshot["backfilled"] is True
    assert bet.edge_snapshot["fair_odds_decimal"] == str(bet.fair_odds_decimal)
    assert gone.edge_snapshot is None
