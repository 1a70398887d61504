"""Grading tables for every market type, quarter lines, parlays, payouts and CLV."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from betting.grading import (
    EventResult,
    GradingError,
    Result,
    Selection,
    amount_minor,
    clv_percent,
    combined_price,
    ev_against_close,
    grade_leg,
    is_quarter_line,
    market_type_of,
    potential_return_minor,
    settle,
)
from betting.statistics import BetRow, bet_statistics, summarise

W, L, P, V, HW, HL = (
    Result.WIN,
    Result.LOSS,
    Result.PUSH,
    Result.VOID,
    Result.HALF_WIN,
    Result.HALF_LOSS,
)


def final(home, away, players=None):
    return EventResult("final", "Chiefs", "Chargers", home, away, players or {})


@pytest.mark.parametrize(
    ("outcome", "home", "away", "has_draw", "expected"),
    [
        ("Chiefs", 24, 17, False, W),
        ("Chargers", 24, 17, False, L),
        ("Chargers", 10, 13, False, W),
        ("Chiefs", 20, 20, False, P),  # two-way moneyline level: stake back
        ("Chargers", 20, 20, False, P),
        ("Chiefs", 1, 1, True, L),  # three-way: a team pick loses on a draw
        ("Draw", 1, 1, True, W),
        ("Draw", 2, 1, True, L),
        ("chiefs", 3, 0, False, W),  # names compare without case
    ],
)
def test_moneyline(outcome, home, away, has_draw, expected):
    assert grade_leg(Selection("h2h", outcome, has_draw=has_draw), final(home, away)) == expected


@pytest.mark.parametrize(
    ("outcome", "point", "home", "away", "expected"),
    [
        ("Chiefs", "-3.5", 24, 20, W),
        ("Chiefs", "-3.5", 24, 21, L),
        ("Chiefs", "-3", 24, 21, P),  # whole line, exact margin: push
        ("Chargers", "+3", 24, 21, P),
        ("Chargers", "+3.5", 24, 21, W),
        ("Chargers", "+2.5", 24, 21, L),
        ("Chiefs", "-0.25", 10, 10, HL),  # half on 0 (push), half on -0.5 (loss)
        ("Chargers", "+0.25", 10, 10, HW),  # half on 0 (push), half on +0.5 (win)
        ("Chiefs", "-0.75", 11, 10, HW),  # half on -0.5 (win), half on -1 (push)
        ("Chargers", "+0.75", 11, 10, HL),  # half on +0.5 (loss), half on +1 (push)
        ("Chiefs", "-0.75", 12, 10, W),
        ("Chiefs", "-1.25", 11, 10, HL),  # half on -1 (push), half on -1.5 (loss)
        ("Chiefs", "-1.25", 13, 10, W),
        ("Chiefs", "-1.25", 10, 10, L),
        ("Chargers", "+1.25", 11, 10, HW),
        ("Chiefs", "0", 10, 10, P),  # pick'em
    ],
)
def test_spreads(outcome, point, home, away, expected):
    assert grade_leg(Selection("spreads", outcome, D(point)), final(home, away)) == expected


@pytest.mark.parametrize(
    ("outcome", "point", "home", "away", "expected"),
    [
        ("Over", "44.5", 24, 21, W),
        ("Under", "44.5", 24, 21, L),
        ("Over", "45", 24, 21, P),
        ("Under", "45", 24, 21, P),
        ("Over", "45.5", 24, 21, L),
        ("Under", "45.5", 24, 21, W),
        ("Over", "2.25", 1, 1, HL),  # half on 2 (push), half on 2.5 (loss)
        ("Under", "2.25", 1, 1, HW),
        ("Over", "2.75", 2, 1, HW),  # half on 2.5 (win), half on 3 (push)
        ("Under", "2.75", 2, 1, HL),
        ("Over", "2.75", 2, 2, W),
        ("Under", "2.25", 2, 2, L),
    ],
)
def test_totals(outcome, point, home, away, expected):
    assert grade_leg(Selection("totals", outcome, D(point)), final(home, away)) == expected


MAHOMES = {
    "Patrick Mahomes": {"player_pass_yds": 291, "player_pass_tds": 2},
    "Bench Guy": {"player_pass_yds": None},
}


@pytest.mark.parametrize(
    ("market", "outcome", "player", "point", "expected"),
    [
        ("player_pass_yds", "Over", "Patrick Mahomes", "285.5", W),
        ("player_pass_yds", "Under", "Patrick Mahomes", "285.5", L),
        ("player_pass_yds", "Over", "Patrick Mahomes", "291", P),
        ("player_pass_yds", "Under", "Patrick Mahomes", "300.5", W),
        ("player_pass_tds", "Over", "patrick mahomes", "1.5", W),
        ("player_pass_tds", "Under", "Patrick Mahomes", "2.25", HW),
        ("player_pass_yds", "Over", "Bench Guy", "100.5", V),  # listed, did not play
        ("player_pass_yds", "Under", "Nobody Listed", "100.5", V),  # not in the stats
        ("player_rush_yds", "Over", "Patrick Mahomes", "10.5", V),  # no such stat recorded
    ],
)
def test_player_props(market, outcome, player, point, expected):
    leg = Selection(market, outcome, D(point), player=player)
    assert grade_leg(leg, final(27, 20, MAHOMES)) == expected


def test_props_read_unprefixed_stat_keys():
    result = final(1, 0, {"Aaron Judge": {"batter_home_runs": 1}, "Jalen Hurts": {"rush_yds": 40}})
    assert grade_leg(Selection("player_rush_yds", "Over", D("39.5"), player="Jalen Hurts"), result) == W
    assert grade_leg(Selection("batter_home_runs", "Yes", None, player="Aaron Judge"), result) == W
    assert grade_leg(Selection("batter_home_runs", "No", None, player="Aaron Judge"), result) == L


@pytest.mark.parametrize("market", ["h2h", "spreads", "totals", "player_pass_yds"])
@pytest.mark.parametrize("status", ["cancelled", "postponed"])
def test_cancelled_event_voids_every_market(market, status):
    result = EventResult(status, "Chiefs", "Chargers", None, None)
    assert grade_leg(Selection(market, "Chiefs", D("1.5"), player="X"), result) == V


@pytest.mark.parametrize(
    ("selection", "result"),
    [
        (Selection("h2h", "Raiders"), final(1, 0)),
        (Selection("spreads", "Chiefs"), final(1, 0)),
        (Selection("totals", "Sideways", D("3.5")), final(1, 0)),
        (Selection("h2h", "Chiefs"), EventResult("in_progress", "Chiefs", "Chargers", 1, 0)),
        (Selection("h2h", "Chiefs"), EventResult("final", "Chiefs", "Chargers", None, None)),
        (Selection("outrights", "Chiefs"), final(1, 0)),
    ],
)
def test_ungradable_legs_raise(selection, result):
    with pytest.raises(GradingError):
        grade_leg(selection, result)


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("h2h", "moneyline"),
        ("h2h_3_way", "moneyline"),
        ("spreads", "spread"),
        ("alternate_spreads", "spread"),
        ("totals", "total"),
        ("alternate_totals", "total"),
        ("player_points", "prop"),
        ("batter_hits", "prop"),
        ("outrights", "other"),
    ],
)
def test_market_types(key, kind):
    assert market_type_of(key) == kind


@pytest.mark.parametrize(
    ("point", "quarter"),
    [("0.25", True), ("-0.75", True), ("2.25", True), ("0.5", False), ("3", False), ("0", False)],
)
def test_quarter_lines(point, quarter):
    assert is_quarter_line(D(point)) is quarter


# Payouts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("result", "price", "stake", "payout"),
    [
        (W, "1.9091", 10000, 19091),
        (W, "2.5", 3333, 8332),  # 8332.5 rounds down
        (L, "2.5", 10000, 0),
        (P, "2.5", 10000, 10000),
        (V, "2.5", 10000, 10000),
        (HW, "1.9091", 10000, 14545),  # half at 1.9091 + half back: 9545.5 + 5000, down
        (HL, "1.9091", 10000, 5000),
        (HL, "1.9091", 10001, 5000),  # 5000.5 rounds down
    ],
)
def test_straight_payouts(result, price, stake, payout):
    settlement = settle(stake, [(result, D(price))])
    assert settlement.result == result
    assert settlement.payout_minor == payout
    assert settlement.net_profit_minor(stake) == payout - stake


@pytest.mark.parametrize(
    ("legs", "result", "payout"),
    [
        ([(W, "2.0"), (W, "2.0")], W, 40000),
        ([(W, "2.0"), (W, "1.9091"), (W, "3.1")], W, 118364),  # 11.83642 x 10000 down
        ([(W, "2.0"), (L, "2.0")], L, 0),
        ([(L, "2.0"), (V, "2.0")], L, 0),
        ([(W, "2.0"), (P, "3.0")], W, 20000),  # the push drops out: price 2.0
        ([(W, "2.0"), (V, "3.0"), (W, "1.5")], W, 30000),  # void drops out: 2.0 x 1.5
        ([(P, "2.0"), (V, "3.0")], P, 10000),
        ([(V, "2.0"), (V, "3.0")], V, 10000),
        ([(W, "2.0"), (HW, "1.9")], HW, 29000),  # 2.0 x 1.45
        ([(W, "2.0"), (HL, "1.9")], P, 10000),  # 2.0 x 0.5: the stake back
        ([(W, "3.0"), (HL, "1.9")], HW, 15000),  # 3.0 x 0.5: ahead, with a half result
        ([(P, "3.0"), (HL, "1.9")], HL, 5000),
    ],
)
def test_parlays(legs, result, payout):
    settlement = settle(10000, [(r, D(p)) for r, p in legs])
    assert settlement.result == result
    assert settlement.payout_minor == payout


def test_parlay_price_is_product_rounded_down():
    assert combined_price([D("1.9091"), D("1.9091")]) == D("3.6446")  # 3.64466281
    assert combined_price([D("2.5"), D("1.5"), D("1.1")]) == D("4.1250")
    assert potential_return_minor(10000, combined_price([D("1.9091"), D("1.9091")])) == 36446


def test_settle_needs_legs():
    with pytest.raises(GradingError):
        settle(100, [])


def test_amount_minor_never_rounds_up():
    assert amount_minor(1, D("1.9999")) == 1
    assert amount_minor(999, D("1.0011")) == 1000


# CLV ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("taken", "closing", "clv"),
    [("2.10", "2.00", "0.050000"), ("1.9091", "1.9091", "0.000000"), ("1.80", "2.00", "-0.100000")],
)
def test_clv_percent(taken, closing, clv):
    assert clv_percent(D(taken), D(closing)) == D(clv)


@pytest.mark.parametrize(
    ("taken", "fair", "ev"),
    [("2.10", 0.5, "0.050000"), ("1.9091", "0.5", "-0.045450"), ("3.0", D("0.4"), "0.200000")],
)
def test_ev_against_close(taken, fair, ev):
    assert ev_against_close(D(taken), fair) == D(ev)


# Statistics ---------------------------------------------------------------------------


def row(status, result, stake, odds, profit, clv=None, sport="nfl", book="dk", market="moneyline", when=None):
    return BetRow(
        status=status,
        result=result,
        stake_minor=stake,
        odds_decimal=D(odds),
        net_profit_minor=profit,
        clv_percent=None if clv is None else D(clv),
        sport=sport,
        sportsbook=book,
        market_type=market,
        placed_at=when or datetime(2026, 3, 15, 12, tzinfo=UTC),
    )


def test_summary_numbers():
    rows = [
        row("settled", "win", 10000, "2.0", 10000, clv="0.05"),
        row("settled", "loss", 10000, "2.0", -10000, clv="-0.02"),
        row("settled", "half_win", 10000, "1.9", 4500, clv="0.01"),
        row("settled", "push", 5000, "2.0", 0),
        row("void", "void", 5000, "2.0", 0),
        row("pending", "", 2000, "3.0", None),
        row("cancelled", "", 9999, "5.0", None, clv="0.5"),
    ]
    stats = summarise(rows)
    assert stats["count"] == 6
    assert stats["pending"] == 1
    assert (stats["won"], stats["lost"], stats["pushed"], stats["void"]) == (2, 1, 1, 1)
    assert stats["total_staked_minor"] == 35000
    assert stats["profit_minor"] == 4500
    assert stats["roi"] == D("0.1286")
    assert stats["win_rate"] == D("0.6667")
    assert stats["average_odds"] == D("2.1500")  # 12.9 / 6
    assert stats["clv_count"] == 3
    assert stats["average_clv"] == D("0.0133")
    assert stats["beat_close_share"] == D("0.6667")


def test_summary_of_nothing():
    stats = summarise([])
    assert stats["count"] == 0
    assert stats["roi"] is None and stats["win_rate"] is None and stats["average_odds"] is None
    assert stats["average_clv"] is None and stats["beat_close_share"] is None


def test_breakdowns_and_months_in_the_users_time_zone():
    late_utc = datetime(2026, 3, 1, 3, tzinfo=UTC)  # still February in New York
    rows = [
        row("settled", "win", 1000, "2.0", 1000, sport="nfl", book="dk", market="spread", when=late_utc),
        row("settled", "loss", 1000, "2.0", -1000, sport="nba", book="fd", market="total"),
        row("settled", "win", 1000, "3.0", 2000, sport="nba", book="dk", market="spread"),
    ]
    stats = bet_statistics(rows, timezone_name="America/New_York")
    assert stats["count"] == 3 and stats["profit_minor"] == 2000
    assert stats["by_sport"]["nba"]["count"] == 2
    assert stats["by_sport"]["nba"]["profit_minor"] == 1000
    assert stats["by_sportsbook"]["dk"]["won"] == 2
    assert stats["by_market_type"]["total"]["lost"] == 1
    assert set(stats["by_month"]) == {"2026-02", "2026-03"}
    assert stats["by_month"]["2026-02"]["count"] == 1
    assert bet_statistics(rows, timezone_name="Not/AZone")["by_month"].keys() == {"2026-03"}
