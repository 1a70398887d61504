"""No input reaches a 500: hostile query strings and path parameters on every edges page
and API view answer a 4xx (the API in the error shape) or a page with a clear message."""

from __future__ import annotations

import pytest

from edges.models import Edge, Event
from tests.edges.factories import FILE_TIME, books, load

pytestmark = pytest.mark.django_db

HUGE = "9" * 30
HOSTILE_QUERIES = [
    "min_edge=abc",
    "min_edge=NaN",
    "min_edge=Infinity",
    "min_edge=1e999999",
    "min_ev=%00",
    "min_edge=%EF%BC%92",  # a full-width digit
    f"event={HUGE}",
    "event=-1",
    "event=%D9%A3",  # an Arabic-Indic digit
    "max_age=1e400",
    "sport=" + "x" * 500,
    "player=" + "%F0%9F%98%80" * 200,
    "page=abc",
    f"page={HUGE}",
    "page_size=-5",
    "status[]=active",
    "ordering=%27;DROP",
]


@pytest.fixture
def ingested():
    from edges.feeds.odds_api import ingest_v4

    books()
    ingest_v4(load("nfl_decimal.json"), now=FILE_TIME)


def test_edge_list_api_and_board_never_500(client, user, user_client, ingested):
    client.force_login(user)
    for query in HOSTILE_QUERIES:
        response = user_client.get(f"/api/v1/edges/?{query}")
        assert response.status_code < 500, query
        if response.status_code >= 400:
            assert set(response.json()["error"]) == {"code", "message", "details"}, query
        assert client.get(f"/edges/?{query}").status_code == 200, query


def test_event_and_edge_paths_never_500(client, user, user_client, ingested):
    event = Event.objects.get(provider_id="evt-kc-lac")
    for path in [
        f"/api/v1/events/{HUGE}/",
        f"/api/v1/events/{HUGE}/history/",
        "/api/v1/events/{event}/history/?market=" + HUGE,
        "/api/v1/events/{event}/history/?market=-1",
        "/api/v1/events/{event}/?method=%00",
        "/api/v1/events/?page=" + HUGE,
        "/api/v1/events/?date=99999-99-99",
        "/api/v1/events/?sport=" + "%00",
        "/api/v1/edges/" + "x" * 300 + "/",
        "/api/v1/edges/%00/",
    ]:
        response = user_client.get(path.format(event=event.pk))
        assert 400 <= response.status_code < 500, path
        assert set(response.json()["error"]) == {"code", "message", "details"}, path
    client.force_login(user)
    for path in [f"/events/{HUGE}/", "/edges/" + "x" * 300 + "/", "/edges/%00/"]:
        assert client.get(path).status_code == 404, path


def test_stake_calculator_takes_plain_amounts_only(client, user, ingested):
    client.force_login(user)
    arb = Edge.objects.get(kind="arbitrage")
    for total in ["1e3", "NaN", "-5", "0", "1000000.01", "12.345", "%EF%BC%92", HUGE, "", "%2B5"]:
        page = client.get(f"/edges/{arb.edge_id}/?total={total}")
        assert page.status_code == 200, total
        assert "Enter a total stake between 0.01 and 1,000,000" in page.content.decode(), total
    assert "Enter a total stake" not in client.get(f"/edges/{arb.edge_id}/?total=250.50").content.decode()


def test_board_filters_read_percents_where_percents_are_shown(client, user, user_client, ingested):
    """The board's inputs show edge % and EV as percents and the page sends fractions, as the
    API reads them; "2%" means 2 % in both."""
    client.force_login(user)
    edges = {e.edge_id: e for e in Edge.objects.filter(status="active")}
    above_2pct = {i for i, e in edges.items() if e.edge_percentage >= 0.02}
    assert above_2pct and above_2pct != set(edges)

    def board_ids(query):
        text = client.get(f"/edges/?{query}").content.decode()
        return {i for i in edges if f'data-edge-id="{i}"' in text}

    def api_ids(query):
        return {e["edge_id"] for e in user_client.get(f"/api/v1/edges/?{query}").json()["results"]}

    assert board_ids("min_edge=0.02") == above_2pct
    assert board_ids("min_edge=2%25") == above_2pct
    assert api_ids("min_edge=0.02") == above_2pct
    assert api_ids("min_edge=2%25") == above_2pct
    # the board shows the filter back as the percent the viewer typed
    assert 'data-percent-of="min_edge" value="2"' in client.get("/edges/?min_edge=0.02").content.decode()
    # out of range: a clear message in percent terms, the filter ignored
    text = client.get("/edges/?min_edge=2.5").content.decode()
    assert "Enter a rate between -100% and 100%" in text
