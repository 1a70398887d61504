"""REST API and pages of the edges app (the poller is in test_feeds.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from edges.models import Edge, Event, Market, OddsQuote, Outcome
from tests.edges.factories import FILE_TIME, books, load

pytestmark = pytest.mark.django_db


@pytest.fixture
def ingested():
    from edges.feeds.odds_api import ingest_v4

    books()
    ingest_v4(load("nfl_decimal.json"), now=FILE_TIME)
    return Event.objects.get(provider_id="evt-kc-lac")


def test_sportsbooks(user_client, ingested):
    body = user_client.get("/api/v1/sportsbooks/").json()
    assert [b["key"] for b in body["results"]] == ["pinnacle", "draftkings", "fanduel"]
    assert body["results"][0]["is_sharp"] is True


def test_edges_list_filters_ordering_and_pagination(user_client, ingested):
    body = user_client.get("/api/v1/edges/").json()
    assert body["count"] == 5
    evs = [e["expected_value_per_dollar"] for e in body["results"]]
    assert evs == sorted(evs, reverse=True)
    assert all(e["recommended_stake"] == {"amount": "0.00", "currency": "USD"} for e in body["results"])
    kinds = user_client.get("/api/v1/edges/?kind=arbitrage").json()
    assert [e["kind"] for e in kinds["results"]] == ["arbitrage"]
    book = user_client.get("/api/v1/edges/?sportsbook=draftkings&kind=positive_ev").json()
    assert [e["side"] for e in book["results"]] == ["Los Angeles Chargers"]
    min_ev = user_client.get("/api/v1/edges/?min_ev=0.02").json()
    assert {e["side"] for e in min_ev["results"]} == {
        "Los Angeles Chargers",
        "Kansas City Chiefs -1.5 / Los Angeles Chargers +3.5",
    }
    by_edge = user_client.get("/api/v1/edges/?ordering=-edge").json()
    edges = [e["edge_percentage"] for e in by_edge["results"]]
    assert edges == sorted(edges, reverse=True)
    page = user_client.get("/api/v1/edges/?page_size=2&page=2").json()
    assert len(page["results"]) == 2 and page["previous"]
    assert user_client.get("/api/v1/edges/?status=stale").json()["count"] == 0


@pytest.mark.parametrize(
    "query", ["min_edge=lots", "kind=jackpot", "status=maybe", "ordering=price", "max_age=-1", "page=99"]
)
def test_edges_list_bad_requests_are_4xx_in_the_error_shape(user_client, ingested, query):
    response = user_client.get(f"/api/v1/edges/?{query}")
    assert response.status_code in (400, 404)
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_edge_detail_with_stake_split(user_client, ingested):
    arb = Edge.objects.get(kind="arbitrage")
    body = user_client.get(f"/api/v1/edges/{arb.edge_id}/").json()
    assert body["stake_split_per_100"] == {
        "stakes": ["61.18", "38.82"],
        "guaranteed_payout": "100.93",
        "guaranteed_profit": "0.93",
    }
    missing = user_client.get("/api/v1/edges/nope/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_the_event_board_best_price_skips_suspended_quotes(user_client, ingested):
    """A suspended quote cannot be bet: it is never the board's best price."""
    chargers = Outcome.objects.get(market__event=ingested, market__key="h2h", name="Los Angeles Chargers")
    OddsQuote.objects.filter(outcome=chargers, sportsbook__key="draftkings").update(is_suspended=True)
    open_quotes = OddsQuote.objects.filter(outcome=chargers, is_suspended=False).select_related("sportsbook")
    expected = max(open_quotes, key=lambda q: q.price_decimal)
    detail = user_client.get(f"/api/v1/events/{ingested.pk}/").json()
    h2h = next(m for m in detail["markets"] if m["key"] == "h2h")
    row = next(o for o in h2h["outcomes"] if o["name"] == "Los Angeles Chargers")
    assert row["best_sportsbook"] == expected.sportsbook.key != "draftkings"
    assert Decimal(row["best_price_decimal"]) == expected.price_decimal


def test_events_list_detail_and_history(user_client, ingested):
    listing = user_client.get("/api/v1/events/?sport=americanfootball_nfl&status=scheduled").json()
    assert [e["provider_id"] for e in listing["results"]] == ["evt-kc-lac"]
    assert user_client.get("/api/v1/events/?date=2030-01-02").json()["count"] == 1
    assert user_client.get("/api/v1/events/?status=nope").status_code == 400
    detail = user_client.get(f"/api/v1/events/{ingested.pk}/").json()
    h2h = next(m for m in detail["markets"] if m["key"] == "h2h")
    chargers = next(o for o in h2h["outcomes"] if o["name"] == "Los Angeles Chargers")
    assert chargers["best_sportsbook"] == "draftkings" and chargers["best_price_decimal"] == "2.600000"
    assert chargers["fair_probability"] == pytest.approx((1 / 2.45) / (1 / 1.6 + 1 / 2.45))
    assert len(chargers["quotes"]) == 3
    consensus = user_client.get(f"/api/v1/events/{ingested.pk}/?reference=consensus&method=power").json()
    assert next(m for m in consensus["markets"] if m["key"] == "h2h")["reference"] == "consensus"
    assert user_client.get(f"/api/v1/events/{ingested.pk}/?method=magic").status_code == 400
    market = Market.objects.get(event=ingested, key="h2h")
    history = user_client.get(f"/api/v1/events/{ingested.pk}/history/?market={market.pk}").json()
    assert len(history["markets"]) == 1 and len(history["markets"][0]["outcomes"]) == 2
    assert user_client.get("/api/v1/events/999999/").json()["error"]["code"] == "not_found"
    assert user_client.get(f"/api/v1/events/{ingested.pk}/history/?market=x").status_code == 400


def test_api_needs_authentication(api_client):
    response = api_client.get("/api/v1/edges/")
    assert response.status_code in (401, 403)
    assert "error" in response.json()


def test_board_event_and_edge_pages(client, user, ingested):
    client.force_login(user)
    home = client.get("/")
    assert home.status_code == 200
    text = home.content.decode()
    assert 'data-testid="edge-board"' in text and "badge arbitrage" in text and "badge middle" in text
    assert "Los Angeles Chargers" in text
    assert client.get("/edges/?kind=arbitrage").content.decode().count('data-edge-id="') == 1
    assert client.get("/edges/?min_edge=lots").status_code == 200
    page = client.get(f"/events/{ingested.pk}/").content.decode()
    assert "<svg" in page and "polyline" in page and 'class="num best"' in page
    arb = Edge.objects.get(kind="arbitrage")
    detail = client.get(f"/edges/{arb.edge_id}/?total=250").content.decode()
    # 250 split by 1/1.65 : 1/2.60, to the cent, both legs paying 252.35
    assert ">152.94<" in detail and ">97.06<" in detail and "2.35 USD" in detail
    assert client.get(f"/edges/{arb.edge_id}/?total=abc").status_code == 200
    assert client.get("/edges/missing/").status_code == 404
    assert client.get("/events/424242/").status_code == 404


def fake_bankroll(*, user, currency):
    """A BANKROLL_PROVIDER for the tests: $1,000 available."""
    assert currency == "USD"
    return 100_000


def test_board_shows_the_viewers_kelly_stake(client, user, ingested, settings):
    # the bankroll comes from the provider named in settings (edges never imports wallet)
    settings.BANKROLL_PROVIDER = "tests.edges.test_api.fake_bankroll"
    user.risk_tolerance, user.max_kelly_fraction = "medium", Decimal("0.25")
    user.save()
    client.force_login(user)
    ev = Edge.objects.get(kind="positive_ev", side="Los Angeles Chargers")
    expected = int(100_000 * min(ev.kelly_fraction * 0.5, 0.25)) / 100
    assert (
        f'data-label="Stake (USD)">{expected:,.2f}<'
        in client.get("/edges/?kind=positive_ev").content.decode()
    )
    assert ev.discovered_at <= FILE_TIME + timedelta(seconds=1)
