"""Leaderboards against a hand-computed table: ties, the minimum sample, window edges,
only public and visible bets; one statement per board."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from social import selectors, services
from social.models import LeaderboardRank, LeaderboardRun
from tests.betting.factories import make_game
from tests.social.factories import bettor, settled_public_bet

pytestmark = pytest.mark.django_db


@pytest.fixture
def table(settings):
    """now, and the bettors' settled public bets (stake, profit, result, CLV, age)."""
    settings.SOCIAL_LEADERBOARD_MIN_BETS = 3
    now = timezone.now().replace(microsecond=0)
    game = make_game()
    hour = timedelta(hours=1)
    week, month = timedelta(days=7), timedelta(days=30)
    rows = {
        # ROI 0/4000 = 0, win 2/4, CLV (.05+.03+.01)/3 = .03 (n 3)
        "ann": [(1000, 1000, "win", ".05", hour), (1000, 1000, "win", ".03", hour),
                (1000, -1000, "loss", ".01", hour), (1000, -1000, "loss", None, hour),
                (1000, -1000, "loss", None, timedelta(days=31))],  # outside both windows
        # ROI 1000/3000, win 2/3, CLV .02
        "ben": [(1000, 1000, "win", ".02", hour), (1000, 1000, "win", ".02", hour),
                (1000, -1000, "loss", ".02", hour)],
        # ROI 2000/6000 (ties ben), win 2/3 (ties), CLV .03 (ties ann)
        "cat": [(2000, 2000, "win", ".03", hour), (2000, 2000, "win", ".03", hour),
                (2000, -2000, "loss", ".03", hour)],
        # 7d: 3 bets, one a second inside the edge, ROI 1000/3000; the bet settled exactly
        # 7 days ago counts in 30d only: ROI 2000/4000
        "dan": [(1000, 1000, "win", None, hour), (1000, 1000, "win", None, 2 * hour),
                (1000, -1000, "loss", None, week - timedelta(seconds=1)),
                (1000, 1000, "win", None, week), (1000, 1000, "win", None, month)],
        # a void is out of ROI, a push is in ROI but out of win rate: ROI 0/3000 (n 3), win 1/2 (n 2)
        "fay": [(1000, 1000, "win", None, hour), (1000, 0, "push", None, hour),
                (1000, 0, "void", None, hour), (1000, -1000, "loss", None, hour)],
    }  # fmt: skip
    users = {}
    for name, bets in rows.items():
        users[name] = bettor(handle=f"lb_{name}", fund=0)
        for stake, profit, result, clv, age in bets:
            settled_public_bet(
                users[name],
                stake=stake,
                profit=profit,
                result=result,
                clv=clv,
                settled_at=now - age,
                game=game,
            )
    # a private bettor with a perfect record, and one whose third bet is not visible yet
    users["eve"] = bettor(handle="lb_eve", public=False, fund=0)
    users["gus"] = bettor(handle="lb_gus", fund=0)
    for _ in range(3):
        settled_public_bet(
            users["eve"], stake=1000, profit=5000, result="win", settled_at=now - hour, game=game
        )
    for index in range(3):
        settled_public_bet(
            users["gus"],
            stake=1000,
            profit=5000,
            result="win",
            settled_at=now - hour,
            visible_from=now + timedelta(seconds=1) if index == 2 else None,
            game=game,
        )
    return now, users


def board(window, metric):
    return [
        (row["handle"].removeprefix("lb_"), row["rank"], row["value"], row["n_bets"])
        for row in selectors.leaderboard(window=window, metric=metric)
    ]


THIRD = Decimal("0.333333")


def test_boards_match_the_hand_computed_table(table):
    now, _users = table
    run = services.leaderboards_recompute(now=now)
    assert board("7d", "roi") == [
        ("ben", 1, THIRD, 3),
        ("cat", 1, THIRD, 3),
        ("dan", 1, THIRD, 3),
        ("ann", 4, Decimal("0"), 4),
        ("fay", 4, Decimal("0"), 3),
    ]
    assert board("7d", "win_pct") == [
        ("ben", 1, Decimal("0.666667"), 3),
        ("cat", 1, Decimal("0.666667"), 3),
        ("dan", 1, Decimal("0.666667"), 3),
        ("ann", 4, Decimal("0.5"), 4),
    ]
    assert board("7d", "clv") == [
        ("ann", 1, Decimal("0.03"), 3),
        ("cat", 1, Decimal("0.03"), 3),
        ("ben", 3, Decimal("0.02"), 3),
    ]
    assert board("30d", "roi") == [
        ("dan", 1, Decimal("0.5"), 4),
        ("ben", 2, THIRD, 3),
        ("cat", 2, THIRD, 3),
        ("ann", 4, Decimal("0"), 4),
        ("fay", 4, Decimal("0"), 3),
    ]
    assert board("30d", "win_pct")[0] == ("dan", 1, Decimal("0.75"), 4)
    assert run.rows == {
        "7d/roi": 5,
        "7d/win_pct": 4,
        "7d/clv": 3,
        "30d/roi": 5,
        "30d/win_pct": 4,
        "30d/clv": 3,
    }


def test_one_statement_per_board_whatever_the_number_of_bettors(table):
    now, _users = table
    with CaptureQueriesContext(connection) as queries:
        services.leaderboards_recompute(now=now)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("\nWITH totals")]
    touching = [q["sql"] for q in queries.captured_queries if "social_leaderboardrank" in q["sql"]]
    assert len(inserts) == 6 and len(touching) == 12  # a DELETE and an INSERT ... SELECT per board
    assert all("RANK() OVER" in sql for sql in inserts)


def test_the_default_minimum_is_20_settled_bets(settings):
    now = timezone.now()
    game = make_game()
    nineteen, twenty = bettor(handle="lb_nineteen", fund=0), bettor(handle="lb_twenty", fund=0)
    for user, count in ((nineteen, 19), (twenty, 20)):
        for _ in range(count):
            settled_public_bet(
                user, stake=1000, profit=1000, result="win", settled_at=now - timedelta(hours=1), game=game
            )
    assert settings.SOCIAL_LEADERBOARD_MIN_BETS == 20
    services.leaderboards_recompute(now=now)
    assert board("7d", "roi") == [("twenty", 1, Decimal("1"), 20)]


def test_a_profile_made_private_leaves_the_board_at_once_and_the_api_and_page_show_it(table, client):
    now, users = table
    services.leaderboards_recompute(now=now)
    services.profile_update(user=users["ben"], is_public=False)
    assert [row[0] for row in board("7d", "roi")] == ["cat", "dan", "ann", "fay"]
    body = APIClient().get("/api/v1/leaderboards/?window=30d&metric=roi").json()
    assert (body["window"], body["metric"], body["min_bets"]) == ("30d", "roi", 3)
    assert [(r["rank"], r["handle"], r["value"], r["n_bets"]) for r in body["results"]][:2] == [
        (1, "lb_dan", "0.500000", 4),
        (2, "lb_cat", "0.333333", 3),
    ]
    html = client.get("/leaderboards/?window=7d&metric=clv").content.decode()
    assert 'href="/u/lb_ann/"' in html and "+3.00%" in html and "lb_ben" not in html
    assert (
        'data-testid="tab-metric-clv"' in html and 'aria-selected="true" data-testid="tab-metric-clv"' in html
    )


@pytest.mark.parametrize("query", ["window=1d&metric=roi", "window=7d&metric=profit", "window=30&metric=roi"])
def test_bad_board_parameters_are_a_400_in_the_error_shape(query):
    response = APIClient().get(f"/api/v1/leaderboards/?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_the_task_records_a_run(table):
    from social.tasks import recompute_leaderboards_task

    rows = recompute_leaderboards_task()
    assert set(rows) == {"7d/roi", "7d/win_pct", "7d/clv", "30d/roi", "30d/win_pct", "30d/clv"}
    assert LeaderboardRun.objects.count() == 1 and LeaderboardRank.objects.exists()
