"""A bettor downloads their bets as CSV: streamed, filtered by dates, the API's figures."""

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from betting.models import Bet
from edges.models import Event
from edges.services import event_record_result
from tests.betting.factories import make_game
from tests.betting.helpers import leg, place
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[dict]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def bets(funded_user, game):
    from betting.services import settle_due_bets

    won = place(funded_user, leg(game.o("home_ml")), stake=1234)
    other = make_game(home="Bills", away="Jets")
    parlay = place(funded_user, leg(game.o("over")), leg(other.o("under")), stake=500)
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(hours=3))
    event_record_result(event_id=game.event.pk, home_score=27, away_score=20)
    settle_due_bets()
    old = place(funded_user, leg(other.o("home_ml")), stake=700)
    Bet.objects.filter(pk=old.pk).update(placed_at=timezone.now() - timedelta(days=40))
    return {"won": won, "parlay": parlay, "old": old}


def test_the_api_export_has_the_same_figures_as_the_api(funded_user, bets, token_client_for):
    client = token_client_for(funded_user)
    listed = {b["id"]: b for b in client.get("/api/v1/bets/").json()["results"]}
    response = client.get("/api/v1/bets/export/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = rows_of(response)
    assert [int(r["bet_id"]) for r in rows] == list(listed)  # newest first, like the list
    for row in rows:
        api = listed[int(row["bet_id"])]
        assert row["stake"] == api["stake"]["amount"] and row["currency"] == api["stake"]["currency"]
        assert row["potential_return"] == api["potential_return"]["amount"]
        assert row["actual_return"] == (api["actual_return"] or {}).get("amount", "")
        assert row["net_profit"] == (api["net_profit"] or {}).get("amount", "")
        assert (
            row["odds_decimal"] == api["odds_decimal"] and int(row["odds_american"]) == api["odds_american"]
        )
        assert row["placed_at"] == api["placed_at"] and row["status"] == api["status"]
    won = next(r for r in rows if int(r["bet_id"]) == bets["won"].pk)
    # 12.34 at 2.20 returns 27.148, rounded down to the cent as the ledger pays it
    assert (won["stake"], won["actual_return"], won["net_profit"], won["result"]) == (
        "12.34",
        "27.14",
        "14.80",
        "win",
    )
    assert "Chiefs" in won["selection"] and "@ 2.200000" in won["selection"]


def test_the_export_takes_a_date_range(funded_user, bets, token_client_for):
    client = token_client_for(funded_user)
    since = (timezone.now() - timedelta(days=7)).date().isoformat()
    rows = rows_of(client.get(f"/api/v1/bets/export/?date_from={since}"))
    assert bets["old"].pk not in {int(r["bet_id"]) for r in rows} and len(rows) == 2
    bad = client.get("/api/v1/bets/export/?date_from=yesterday")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"


def test_the_page_export_is_linked_from_my_bets_and_only_has_my_bets(funded_user, bets):
    stranger = UserFactory()
    fund_user(stranger, 10_000)
    place(stranger, leg(make_game().o("home_ml")), stake=100)
    browser = Client()
    browser.force_login(funded_user)
    page = browser.get("/bets/").content.decode()
    assert 'formaction="/bets/export.csv"' in page and "Download CSV" in page
    response = browser.get("/bets/export.csv?status=settled")
    assert response.status_code == 200
    rows = rows_of(response)
    assert [int(r["bet_id"]) for r in rows] == [bets["won"].pk]
    assert browser.get("/bets/export.csv?date_from=nonsense").status_code == 400


def test_the_export_needs_a_login(api_client):
    assert Client().get("/bets/export.csv").status_code == 302
    assert api_client.get("/api/v1/bets/export/").status_code in (401, 403)


def test_a_client_may_ask_for_text_csv(funded_user, bets, token_client_for):
    client = token_client_for(funded_user)
    response = client.get("/api/v1/bets/export/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and len(rows_of(response)) == 3
    refused = client.get("/api/v1/bets/export/?date_to=never", HTTP_ACCEPT="text/csv")
    assert refused.status_code == 400 and b"validation_error" in refused.content
