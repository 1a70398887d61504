"""Ingest of v4 files: expected edges (matching independent calculations), idempotency,
out-of-order updates, malformed input, props."""

from __future__ import annotations

import copy
import io
import math
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from edges.feeds.odds_api import ingest_v4, parse_v4
from edges.models import Edge, Event, Market, OddsHistory, OddsQuote
from tests.edges.factories import FILE_TIME, books, load

pytestmark = pytest.mark.django_db


def _edges():
    return {(e.kind, e.side): e for e in Edge.objects.filter(status="active")}


def test_decimal_file_gives_expected_edges():
    books()
    report = ingest_v4(load("nfl_decimal.json"), now=FILE_TIME)
    assert report.quotes_accepted == 18 and report.skipped == 0
    edges = _edges()
    assert set(edges) == {
        ("positive_ev", "Los Angeles Chargers"),
        ("positive_ev", "Kansas City Chiefs -3.5"),
        ("arbitrage", "Kansas City Chiefs / Los Angeles Chargers"),
        ("middle", "Kansas City Chiefs -1.5 / Los Angeles Chargers +3.5"),
        ("middle", "Over 47.5 / Under 48.5"),
    }
    # +EV: DraftKings Chargers 2.60 against Pinnacle 1.60 / 2.45, multiplicative
    q_home, q_away = 1 / 1.60, 1 / 2.45
    p = q_away / (q_home + q_away)
    ev = edges[("positive_ev", "Los Angeles Chargers")]
    assert ev.sportsbook.key == "draftkings"
    assert ev.fair_probability == pytest.approx(p, abs=1e-6)
    assert ev.edge_percentage == pytest.approx(p - 1 / 2.60, abs=1e-6)
    assert ev.expected_value_per_dollar == pytest.approx(p * 2.60 - 1, abs=1e-6)
    assert ev.kelly_fraction == pytest.approx((p * 2.60 - 1) / 1.60, abs=1e-6)
    assert ev.best_odds_american == 160
    assert ev.fair_odds_decimal == Decimal(1 / p).quantize(Decimal("0.000001"))
    # +EV on the spread: FanDuel Chiefs -3.5 at 2.02 against Pinnacle's 1.95 / 1.95 (fair 0.5)
    spread = edges[("positive_ev", "Kansas City Chiefs -3.5")]
    assert spread.fair_probability == pytest.approx(0.5, abs=1e-6)
    assert spread.expected_value_per_dollar == pytest.approx(0.01, abs=1e-6)
    assert spread.kelly_fraction == pytest.approx(0.01 / 1.02, abs=1e-6)
    # arbitrage: best Chiefs 1.65 (FanDuel), best Chargers 2.60 (DraftKings)
    arb = edges[("arbitrage", "Kansas City Chiefs / Los Angeles Chargers")]
    inverse = 1 / 1.65 + 1 / 2.60
    assert arb.edge_percentage == pytest.approx(1 - inverse, abs=1e-6)
    assert arb.expected_value_per_dollar == pytest.approx(1 / inverse - 1, abs=1e-6)
    assert [leg["sportsbook"] for leg in arb.legs] == ["fanduel", "draftkings"]
    # stake split of $100 to the cent: 61.18 / 38.82, paying 100.94 / 100.93
    assert [leg["stake_share"] for leg in arb.legs] == [0.6118, 0.3882]
    assert 6118 * 1.65 >= 10_000 and 3882 * 2.60 >= 10_000
    # middle on totals: Over 47.5 at 1.95 (DraftKings), Under 48.5 at 1.95 (FanDuel)
    middle = edges[("middle", "Over 47.5 / Under 48.5")]
    assert (middle.middle_low, middle.middle_high) == (Decimal("47.50"), Decimal("48.50"))
    centre = (47.5 * 4 + 48.5 * 2) / 6  # lines weighted by quotes: 47.5 has 4, 48.5 has 2

    def phi(x):
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))

    hit = phi((48.5 - centre) / 10) - phi((47.5 - centre) / 10)
    payout = 1 / (1 / 1.95 + 1 / 1.95)
    assert middle.fair_probability == pytest.approx(hit, abs=1e-6)
    assert middle.expected_value_per_dollar == pytest.approx(payout * (1 + hit) - 1, abs=1e-6)
    assert middle.edge_percentage == pytest.approx(hit - (1 / 1.95 + 1 / 1.95 - 1), abs=1e-6)


def test_american_file_gives_expected_edges():
    books()
    report = ingest_v4(load("nba_american.json"), odds_format="american", now=FILE_TIME)
    assert report.quotes_accepted == 6
    quote = OddsQuote.objects.get(sportsbook__key="pinnacle", outcome__name="New York Knicks")
    assert (quote.price_decimal, quote.price_american) == (Decimal("1.666667"), -150)
    edges = _edges()
    d_home, d_away = 1 + 100 / 150, 2.30
    p_away = (1 / d_away) / (1 / d_home + 1 / d_away)
    ev = edges[("positive_ev", "Boston Celtics")]
    assert ev.best_odds_american == 145
    assert ev.fair_probability == pytest.approx(p_away, abs=1e-6)
    assert ev.edge_percentage == pytest.approx(p_away - 1 / 2.45, abs=1e-6)
    assert ev.expected_value_per_dollar == pytest.approx(p_away * 2.45 - 1, abs=1e-6)
    assert ev.kelly_fraction == pytest.approx((p_away * 2.45 - 1) / 1.45, abs=1e-6)
    arb = edges[("arbitrage", "Boston Celtics / New York Knicks")]
    assert arb.edge_percentage == pytest.approx(1 - 1 / 2.45 - 1 / (1 + 100 / 140), abs=1e-6)


def test_props_read_the_player_from_name_or_description():
    books()
    ingest_v4(load("nfl_props_decimal.json"), now=FILE_TIME)
    market = Market.objects.get(key="player_pass_yds")
    assert (market.player, market.point) == ("Patrick Mahomes", Decimal("285.50"))
    assert sorted(market.outcomes.values_list("name", flat=True)) == ["Over", "Under"]
    assert OddsQuote.objects.filter(outcome__market=market).count() == 6
    ev = Edge.objects.get(kind="positive_ev", market=market)
    p_over = (1 / 1.93) / (1 / 1.93 + 1 / 1.89)
    assert ev.sportsbook.key == "fanduel" and ev.player == "Patrick Mahomes"
    assert ev.expected_value_per_dollar == pytest.approx(p_over * 2.05 - 1, abs=1e-6)


def test_ingest_is_idempotent():
    books()
    ingest_v4(load("nfl_decimal.json"), now=FILE_TIME)
    before = (
        OddsQuote.objects.count(),
        OddsHistory.objects.count(),
        list(Edge.objects.values_list("edge_id", "version")),
    )
    report = ingest_v4(load("nfl_decimal.json"), now=FILE_TIME)
    assert report.quotes_accepted == 0 and report.quotes_ignored == 18
    assert (
        OddsQuote.objects.count(),
        OddsHistory.objects.count(),
        list(Edge.objects.values_list("edge_id", "version")),
    ) == before


def test_older_update_is_ignored_and_newer_moves_the_edge():
    books()
    payload = load("nfl_decimal.json")
    ingest_v4(payload, now=FILE_TIME)
    ev = Edge.objects.get(kind="positive_ev", side="Los Angeles Chargers")
    older = copy.deepcopy(payload)
    dk = older[0]["bookmakers"][1]
    dk["markets"][0]["last_update"] = "2030-01-01T11:59:00Z"
    dk["markets"][0]["outcomes"][1]["price"] = 3.50
    report = ingest_v4(older, now=FILE_TIME)
    assert report.quotes_accepted == 0
    assert OddsQuote.objects.get(
        sportsbook__key="draftkings", outcome__name="Los Angeles Chargers", outcome__market__key="h2h"
    ).price_decimal == Decimal("2.6")
    newer = copy.deepcopy(payload)
    dk = newer[0]["bookmakers"][1]
    dk["markets"][0]["last_update"] = "2030-01-01T12:00:20Z"
    dk["markets"][0]["outcomes"][1]["price"] = 2.70
    ingest_v4(newer, now=FILE_TIME)
    moved = Edge.objects.get(edge_id=ev.edge_id)
    p = (1 / 2.45) / (1 / 1.60 + 1 / 2.45)
    assert moved.expected_value_per_dollar == pytest.approx(p * 2.70 - 1, abs=1e-6)
    assert moved.version > ev.version and moved.discovered_at == ev.discovered_at
    assert (
        OddsHistory.objects.filter(
            sportsbook__key="draftkings", outcome__name="Los Angeles Chargers", outcome__market__key="h2h"
        ).count()
        == 2
    )


def test_opportunity_gone_expires_the_edge():
    books()
    payload = load("nfl_decimal.json")
    ingest_v4(payload, now=FILE_TIME)
    newer = copy.deepcopy(payload)
    dk = newer[0]["bookmakers"][1]
    dk["markets"][0]["last_update"] = "2030-01-01T12:00:20Z"
    dk["markets"][0]["outcomes"][1]["price"] = 2.30  # no longer above the fair price
    report = ingest_v4(newer, now=FILE_TIME)
    assert report.edges_removed >= 1
    assert Edge.objects.get(kind="positive_ev", side="Los Angeles Chargers").status == "expired"


def test_malformed_input_is_reported_and_skipped():
    books()
    parsed = parse_v4(load("malformed.json"))
    reasons = parsed.report.reasons()
    assert reasons == {
        "event missing home_team": 1,
        "event has no valid commence_time": 1,
        "event is not an object": 1,
        "not a price: 'abc'": 1,
        "spread outcome has no point": 1,
        "prop outcome names no player (need a side in one of name/description, the player in the other)": 1,
        "market has no valid last_update": 1,
        "bookmaker without a key": 1,
    }
    out = io.StringIO()
    call_command(
        "ingest_odds",
        str(__import__("tests.edges.factories").edges.factories.DATA / "malformed.json"),
        stdout=out,
    )
    text = out.getvalue()
    assert "skipped 8" in text and "not a price: 'abc'" in text
    # the valid parts were kept: the Bulls moneyline, Heat spread and the totals
    assert Event.objects.filter(provider_id="evt-mia-chi").exists()
    assert OddsQuote.objects.filter(outcome__market__event__provider_id="evt-mia-chi").count() == 4


def test_ingest_command_and_unreadable_file(tmp_path):
    from django.core.management.base import CommandError

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CommandError):
        call_command("ingest_odds", str(bad))
    assert Event.objects.count() == 0


def test_moved_line_withdraws_the_books_old_line():
    books()
    payload = load("nfl_decimal.json")
    ingest_v4(payload, now=FILE_TIME)
    newer = copy.deepcopy(payload)
    fd = newer[0]["bookmakers"][2]
    fd["markets"][2]["last_update"] = "2030-01-01T12:00:20Z"
    for outcome in fd["markets"][2]["outcomes"]:
        outcome["point"] = 47.5
    ingest_v4(newer, now=FILE_TIME + timedelta(seconds=1))
    old = OddsQuote.objects.filter(
        sportsbook__key="fanduel", outcome__market__key="totals", outcome__market__point=Decimal("48.5")
    )
    assert old.count() == 2 and all(q.is_suspended for q in old)
    assert Edge.objects.get(kind="middle", side="Over 47.5 / Under 48.5").status == "expired"


def test_batch_deltas_show_the_stored_edges(monkeypatch):
    """The websocket frames of a batch: every upserted and expired edge serialised as the API
    serialises the stored row, on the board and on its event's group."""
    from edges import realtime

    sent: list[dict] = []
    monkeypatch.setattr(realtime, "send_groups", lambda groups, **kwargs: sent.append(dict(groups)))
    books()
    payload = load("nfl_decimal.json")
    ingest_v4(payload, now=FILE_TIME)

    def stored(edge_id):
        return realtime.edge_to_dict(Edge.objects.select_related("event", "sportsbook").get(edge_id=edge_id))

    (groups,) = sent
    board = groups[realtime.BOARD_GROUP]
    assert {d["type"] for d in board} == {"edge.updated"}
    assert len(board) == Edge.objects.count() == 5
    for delta in board:
        edge = delta["edge"]
        assert delta["version"] == edge["version"]
        assert edge == stored(edge["edge_id"])
        assert delta in groups[realtime.event_group(edge["event_id"])]
    event_id = board[0]["edge"]["event_id"]
    quotes = [d for d in groups[realtime.event_group(event_id)] if d["type"] == "quote.updated"]
    assert len(quotes) == 18
    assert set(quotes[0]["quote"]) == {
        "outcome_id", "market_id", "sportsbook", "price_decimal", "version", "is_suspended"
    }  # fmt: skip

    sent.clear()
    newer = copy.deepcopy(payload)
    dk = newer[0]["bookmakers"][1]
    dk["markets"][0]["last_update"] = "2030-01-01T12:00:20Z"
    dk["markets"][0]["outcomes"][1]["price"] = 2.30  # the Chargers' +EV is gone
    ingest_v4(newer, now=FILE_TIME)
    (groups,) = sent
    removed = [d for d in groups[realtime.BOARD_GROUP] if d["type"] == "edge.removed"]
    gone = Edge.objects.get(kind="positive_ev", side="Los Angeles Chargers")
    assert gone.edge_id in {d["edge_id"] for d in removed}
    assert {d["edge_id"] for d in removed} == set(
        Edge.objects.filter(status="expired").values_list("edge_id", flat=True)
    )
    for delta in removed:
        expired = Edge.objects.get(edge_id=delta["edge_id"])
        assert delta["edge"] == stored(expired.edge_id)
        assert delta["edge"]["status"] == "expired" and delta["version"] == expired.version
        assert (delta["event_id"], delta["reason"]) == (expired.event_id, "gone")
        assert delta in groups[realtime.event_group(expired.event_id)]


def _synchronous_commit_settings(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "synchronous_commit" in q["sql"]]


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_its_own_commits_without_waiting_for_the_disk():
    """Odds are market data: a batch that is its own transaction turns synchronous commit off
    for itself alone; the next transaction (money, say) waits for the disk as ever."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    books()
    with CaptureQueriesContext(connection) as captured:
        report = ingest_v4(load("nfl_decimal.json"), now=FILE_TIME)
    assert report.quotes_accepted == 18
    assert _synchronous_commit_settings(captured) == ["SET LOCAL synchronous_commit = off"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)


def test_a_batch_inside_a_callers_transaction_leaves_its_commit_alone():
    """Inside a caller's transaction (here the test's own) the setting would cover the
    caller's writes too, which may be money: it is not touched."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    books()
    with CaptureQueriesContext(connection) as captured:
        report = ingest_v4(load("nfl_decimal.json"), now=FILE_TIME)
    assert report.quotes_accepted == 18
    assert _synchronous_commit_settings(captured) == []
