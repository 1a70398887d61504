"""Shared cards: an edge or one's own bet, with the figures at share time and a slip link."""

from __future__ import annotations

import pytest

from betthat.core.errors import ApplicationError
from chat import cards, services
from tests.betting.factories import make_edge, make_game
from tests.betting.helpers import leg, place
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_outbox_nudge(settings):
    settings.OUTBOX_NUDGE = False


def test_an_edge_card_carries_price_fair_and_ev(user_client, lobby):
    game = make_game()
    edge = make_edge(game, "home_ml", "draftkings")
    response = user_client.post(
        "/api/v1/chat/rooms/lobby/messages/",
        {"text": "value here", "share": {"kind": "edge", "ref": edge.edge_id}},
        format="json",
    )
    assert response.status_code == 201, response.content
    card = response.json()["attachment"]
    assert card["kind"] == "edge" and card["edge_id"] == edge.edge_id
    assert card["book"] == "DraftKings" and card["price_decimal"] == str(edge.best_odds_decimal)
    assert card["fair_decimal"] == "2.000000" and card["ev_per_dollar"] == 0.1
    assert card["slip_url"] == f"/bets/slip/?edge_id={edge.edge_id}"


def test_a_bet_card_is_ones_own_and_never_carries_the_stake(user, lobby):
    game = make_game()
    fund_user(user, 100_000)
    bet = place(user, leg(game.o("home_ml")), stake=4321)
    card = cards.card_for(user=user, kind="bet", ref=str(bet.pk))
    assert card["bet_id"] == bet.pk and card["book"] == "DraftKings" and card["status"] == "pending"
    assert card["slip_url"] == f"/bets/slip/?outcome_id={game.o('home_ml').pk}&sportsbook=draftkings"
    # No field carries the stake (a substring check on repr(card) also matched ids and
    # timestamps that happened to contain "4321").
    assert not [key for key in card if "stake" in key or "amount" in key]
    assert not [value for value in card.values() if str(value) in ("4321", "43.21", "43.21 USD", "$43.21")]
    message, _ = services.message_post(user=user, room=lobby, text="on it", attachment=card)
    assert message.attachment["selection"] == game.o("home_ml").name
    with pytest.raises(ApplicationError) as problem:
        cards.card_for(user=UserFactory(), kind="bet", ref=str(bet.pk))
    assert problem.value.code == "not_found"
