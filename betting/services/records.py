"""Writing a bet with its legs in one statement, and the payload its events carry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

from betting.models import Bet, BetLeg

_INSERT_FIELDS: dict[type[Model], tuple[list[str], list[Field[Any, Any]]]] = {}


def _insert_fields(model: type[Model], db: BaseDatabaseWrapper) -> tuple[list[str], list[Field[Any, Any]]]:
    """(quoted columns, fields) that an INSERT of `model` writes, computed once per model."""
    if model not in _INSERT_FIELDS:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        _INSERT_FIELDS[model] = ([db.ops.quote_name(str(f.column)) for f in fields], fields)
    return _INSERT_FIELDS[model]


def _insert_columns(
    instance: Model, db: BaseDatabaseWrapper, *, skip: str = ""
) -> tuple[list[str], list[Any]]:
    """The columns and values `Model.save()` would insert (defaults, auto_now included);
    `db` is the connection itself (not the `connection` proxy, costly per attribute)."""
    all_columns, fields = _insert_fields(type(instance), db)
    columns: list[str] = []
    values: list[Any] = []
    for column, field in zip(all_columns, fields, strict=True):
        if field.attname == skip:
            continue
        columns.append(column)
        values.append(field.get_db_prep_save(field.pre_save(instance, True), db))
    return columns, values


def insert_bet_with_legs(bet: Bet, legs: list[BetLeg]) -> None:
    """Insert the bet and its legs in one statement (a data-modifying CTE) instead of two
    ORM inserts: one round trip and no query compilation. Sets the primary keys."""
    db = connections[DEFAULT_DB_ALIAS]
    bet_columns, params = _insert_columns(bet, db)
    leg_columns: list[str] = []
    rows = []
    for leg in legs:
        leg_columns, values = _insert_columns(leg, db, skip="bet_id")
        rows.append("((SELECT id FROM new_bet), " + ", ".join(["%s"] * len(values)) + ")")
        params.extend(values)
    sql = (
        f"WITH new_bet AS (INSERT INTO {Bet._meta.db_table} ({', '.join(bet_columns)}) "
        f"VALUES ({', '.join(['%s'] * len(bet_columns))}) RETURNING id) "
        f"INSERT INTO {BetLeg._meta.db_table} (bet_id, {', '.join(leg_columns)}) "
        f"VALUES {', '.join(rows)} RETURNING id, bet_id"
    )
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        returned = cursor.fetchall()
    bet.pk = returned[0][1]
    bet._state.adding = False
    bet._state.db = db.alias
    for leg, (leg_id, _bet_id) in zip(legs, returned, strict=True):
        leg.pk = leg_id
        leg.bet = bet
        leg._state.adding = False
        leg._state.db = db.alias


@dataclass(slots=True)
class BetRow:
    """A pending bet as a settlement batch reads it: the columns settlement, its wallet
    movements and `bet.settled` use, without a model instance (a batch reads a thousand)."""

    pk: int
    user_id: int
    event_id: int | None
    kind: str
    market_type: str
    sport_key: str
    sportsbook_id: str
    currency: str
    stake_minor: int
    odds_decimal: Decimal
    odds_american: int
    potential_return_minor: int
    placed_at: datetime
    settlement_note: str
    status: str
    result: str = ""
    actual_return_minor: int | None = None
    net_profit_minor: int | None = None
    settled_at: datetime | None = None
    updated_at: datetime | None = None


# The columns of BetRow in the order of its fields (up to `status`), for a SELECT.
BET_ROW_COLUMNS = (
    "id, user_id, event_id, kind, market_type, sport_key, sportsbook_id, currency, stake_minor, odds_decimal,"
    " odds_american, potential_return_minor, placed_at, settlement_note, status"
)


class LegRow(NamedTuple):
    """A leg as settlement reads it (grading and exposure need only these)."""

    event_id: int
    market_id: int
    outcome_id: int
    result: str
    price_decimal: Decimal


LEG_ROW_COLUMNS = "event_id, market_id, outcome_id, result, price_decimal"


def bet_event_payload(bet: Bet | BetRow, legs: list[BetLeg] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "bet_id": bet.pk,
        "user_id": bet.user_id,
        "kind": bet.kind,
        "market_type": bet.market_type,
        "sport_key": bet.sport_key,
        "sportsbook": bet.sportsbook_id,
        "currency": bet.currency,
        "stake_minor": bet.stake_minor,
        "odds_decimal": str(bet.odds_decimal),
        "odds_american": bet.odds_american,
        "potential_return_minor": bet.potential_return_minor,
        "status": bet.status,
        "result": bet.result,
        "placed_at": bet.placed_at,
        "event_id": bet.event_id,
    }
    if legs is not None:
        payload["legs"] = [
            {
                "event_id": leg.event_id,
                "market_id": leg.market_id,
                "outcome_id": leg.outcome_id,
                "price_decimal": str(leg.price_decimal),
            }
            for leg in legs
        ]
    return payload
