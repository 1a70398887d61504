"""The slip's outcomes statement (edges.selectors.outcomes_for_placement) is planned once per
connection, not for every bet (docs/performance.md, issue 19)."""

from __future__ import annotations

import pytest
from django.db import connection

from edges.selectors import outcomes_for_placement
from tests.betting.factories import make_game

pytestmark = pytest.mark.django_db


def _plans() -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%%FROM edges_outcome o%%' ORDER BY prepare_time"
        )
        return cursor.fetchall()


def test_the_outcomes_statement_runs_on_a_generic_plan_after_its_first_executions():
    game = make_game()
    single = [game.o("home_ml").pk]
    parlay = [game.o("home_ml").pk, game.o("over").pk]
    for _ in range(8):
        found = outcomes_for_placement(outcome_ids=single, sportsbook_key="draftkings")
        assert list(found) == single and found[single[0]].market.event.pk == game.event.pk
    for _ in range(8):
        found = outcomes_for_placement(outcome_ids=parlay, sportsbook_key="draftkings")
        assert sorted(found) == sorted(parlay)
        assert found[parlay[0]].quote_last_update is not None
    plans = _plans()
    # one prepared statement per leg count; PostgreSQL tries custom plans for the first five
    # executions, then keeps the generic one (with `ANY($1)`: 8 custom plans, 0 generic)
    assert len(plans) == 2
    for generic, custom in plans:
        assert custom == 5 and generic == 3


def test_no_outcomes_no_statement():
    assert outcomes_for_placement(outcome_ids=[], sportsbook_key="draftkings") == {}
