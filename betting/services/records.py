"""A bet and its legs as rows for the placement's statement, and the payload its events carry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

from django.db.models import Field, Model

from betting.models import Bet, BetLeg

_INSERT_FIELDS: dict[type[Model], list[Field[Any, Any]]] = {}


def _insert_fields(model: type[Model]) -> list[Field[Any, Any]]:
    """The fields an INSERT of `model` writes (all but the primary key), computed once."""
    if model not in _INSERT_FIELDS:
        _INSERT_FIELDS[model] = [f for f in model._meta.concrete_fields if not f.primary_key]
    return _INSERT_FIELDS[model]


def _json_value(value: Any) -> Any:
    # Exact text for decimals and timestamps (DjangoJSONEncoder cuts microseconds).
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a column value")


def insert_row_json(instance: Model, *, skip: str = "") -> dict[str, Any]:
    """{column: value} of what `Model.save()` would insert (defaults and auto_now applied),
    for `jsonb_populate_record` on the model's table (see `rows_json`)."""
    return {
        str(field.column): field.pre_save(instance, True)
        for field in _insert_fields(type(instance))
        if field.attname != skip
    }


def rows_json(value: Any) -> str:
    """JSON text of rows from `insert_row_json`: numbers and booleans as themselves, JSON
    columns as objects, decimals and timestamps as exact text."""
    return json.dumps(value, default=_json_value, separators=(",", ":"))


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
