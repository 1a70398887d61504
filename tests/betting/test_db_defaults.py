"""Columns with a constant default carry it in the database too (`db_default`), so raw SQL
that leaves them out still inserts (issue 19: `bench/social` inserted bets without
`settlement_error`, a NOT NULL column added later, and `make bench` exited 1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import NOT_PROVIDED

from betthat.core.models import TimeStampedModel
from betting.models import Bet, BetLeg
from social.models import PublicBet
from tests.betting.factories import make_game
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Bet, BetLeg, PublicBet])
def test_every_not_null_column_with_a_default_has_it_in_the_database(model):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, column_default FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s AND is_nullable = 'NO'",
            [table],
        )
        defaults = dict(cursor.fetchall())
    # created_at/updated_at of TimeStampedModel are every audited model's; raw SQL here always
    # writes them (a database default there would be a migration of every app).
    shared = {field.name for field in TimeStampedModel._meta.fields}
    fields = [
        field
        for field in model._meta.concrete_fields
        if field.default is not NOT_PROVIDED
        and not field.null
        and field.column in defaults
        and not (issubclass(model, TimeStampedModel) and field.name in shared)
    ]
    assert fields, f"{table}: no column with a default"
    missing = sorted(field.column for field in fields if defaults[field.column] is None)
    assert missing == [], f"{table}: NOT NULL columns with a Python default but none in the database"


def test_raw_insert_that_leaves_the_defaulted_columns_out_gets_the_models_defaults():
    user = UserFactory()
    game = make_game()
    outcome = game.o("home_ml")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO betting_bet (created_at, updated_at, user_id, event_id, market_type, stake_minor,
                                     odds_decimal, odds_american, potential_return_minor, sportsbook_id)
            VALUES (now(), now(), %s, %s, 'moneyline', 1000, 2.5, 150, 2500, 'draftkings')
            RETURNING id
            """,
            [user.pk, game.event.pk],
        )
        bet_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO betting_betleg (bet_id, event_id, market_id, outcome_id, price_decimal)"
            " VALUES (%s, %s, %s, %s, 2.5)",
            [bet_id, game.event.pk, outcome.market_id, outcome.pk],
        )
        cursor.execute(
            "INSERT INTO social_publicbet (bet_id, user_id, visible_from, stake_mode, placed_at, created_at,"
            " stake_minor) VALUES (%s, %s, now(), 'exact', now(), now(), 1000)",
            [bet_id, user.pk],
        )
    bet = Bet.objects.get(pk=bet_id)
    assert (bet.kind, bet.status, bet.result, bet.currency, bet.settlement_error) == (
        "straight",
        "pending",
        "",
        "USD",
        "",
    )
    assert (bet.edge_id, bet.sport_key, bet.external_id, bet.settlement_note, bet.clv_note) == ("",) * 5
    assert bet.limits_in_force == {} and bet.idempotency_key == "" and bet.placed_at is not None
    leg = BetLeg.objects.get(bet_id=bet_id)
    assert (leg.position, leg.quote_version, leg.leg_type, leg.attributes, leg.result) == (
        0,
        0,
        "straight",
        {},
        "",
    )
    public = PublicBet.objects.get(bet_id=bet_id)
    assert (public.status, public.result, public.currency, public.sport_key) == ("pending", "", "USD", "")
