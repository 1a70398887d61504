"""Placement's reserve step in one round trip: `betting_bet_reserve` (migration 0003) locks
the user's wallet accounts and user row, checks the account, the limits across currencies
and the cash, sizes the Kelly stake, writes the `placing` bet with its legs and holds the
stake (header, entries, outbox event), all in one statement that is its own transaction.
It returns a refusal instead of writing; this module turns each into the ApplicationError
placement always gave."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection

from betthat.core.db import prepared_cursor, single_statement_transaction
from betthat.core.errors import ApplicationError
from betthat.core.money import fx_rate
from betthat.users.compliance import account_frozen, is_frozen_refusal
from betthat.users.models import User
from betting.models import Bet, BetLeg
from betting.services.limits import Headroom, check_limits, limit_changes_apply_due, window_starts
from betting.services.records import insert_row_json, rows_json
from edges.pricing import RISK_MULTIPLIERS
from wallet.ledger import insufficient_funds
from wallet.services import wallet_hold_event

_RESERVE_SQL = """
SELECT * FROM betting_bet_reserve(
    %(user)s, %(currency)s, %(stake)s, %(now)s, %(day)s, %(month)s, %(fx)s::jsonb, %(kelly)s::jsonb,
    %(bet)s::jsonb, %(legs)s::jsonb, %(event)s::jsonb)
"""
# `limits_due` (a limit raise's cooling-off has passed): apply it and call again.
_ATTEMPTS = 3


def account_suspended() -> ApplicationError:
    return ApplicationError("Your account is not active.", code="account_suspended", status=403)


def self_excluded(until: datetime | None) -> ApplicationError:
    return ApplicationError(
        "You have excluded yourself from betting.",
        code="self_excluded",
        status=403,
        details={"until": until.isoformat() if until else None},
    )


def idempotency_conflict() -> ApplicationError:
    return ApplicationError(
        "This Idempotency-Key was already used for another bet.", code="idempotency_conflict", status=409
    )


def _fx_json() -> str:
    return rows_json({currency: str(rate) for currency, rate in settings.BETTING_FX_RATES.items()})


def kelly_by_tolerance(kelly_fraction: Decimal | None) -> str | None:
    """Per risk tolerance, the edge's Kelly fraction times its multiplier, as
    `edges.pricing.recommended_stake_minor` multiplies them ({} when there is nothing to
    size); None without an edge."""
    if kelly_fraction is None:
        return None
    if kelly_fraction <= 0:
        return "{}"
    kelly = Decimal(repr(float(kelly_fraction)))
    return rows_json({name: kelly * Decimal(repr(m)) for name, m in RISK_MULTIPLIERS.items()})


def _refuse(refusal: str, details: dict[str, Any] | None, *, headroom: Headroom | None, bet: Bet) -> None:
    if refusal == "account_suspended":
        raise account_suspended()
    if refusal == "self_excluded":
        until = (details or {}).get("until")
        raise self_excluded(datetime.fromisoformat(until) if until else None)
    if refusal == "no_rate":
        fx_rate(str((details or {})["currency"]))  # raises its validation_error
    if refusal == "limit_exceeded" and headroom is not None:
        check_limits(headroom=headroom, stake_minor=bet.stake_minor)  # raises limit_exceeded
    if refusal == "idempotency_conflict":
        raise idempotency_conflict()
    if refusal == "insufficient_funds":
        raise insufficient_funds(
            kind="cash",
            available_minor=int((details or {})["available_minor"]),
            required_minor=bet.stake_minor,
            currency=bet.currency,
        )
    raise RuntimeError(f"betting_bet_reserve refused with {refusal!r}")  # pragma: no cover


def _call(params: dict[str, Any]) -> tuple[Any, ...]:
    try:
        with single_statement_transaction(), prepared_cursor() as cursor:
            cursor.execute(_RESERVE_SQL, params)
            row: tuple[Any, ...] = cursor.fetchone()
    except IntegrityError as error:
        if "bet_user_idempotency_uniq" in str(error):
            raise idempotency_conflict() from error
        raise
    except DatabaseError as error:
        # The hold's cash line met the frozen-account trigger (wallet migration 0007): the
        # whole statement, bet and legs included, was rolled back.
        if is_frozen_refusal(error):
            raise account_frozen(user_id=params["user"]) from error
        raise
    return row


def bet_reserve(
    *, user: User, bet: Bet, legs: list[BetLeg], kelly_fraction: Decimal | None, now: datetime
) -> None:
    """Write `bet` (status `placing`) and its `legs` and hold the stake, under the user's
    wallet and user-row locks, after the account, limit and cash checks; sets the ids, the
    limits in force and the recommended stake on them. Raises the refusal's ApplicationError
    (nothing written)."""
    event = wallet_hold_event(user_id=user.pk, amount_minor=bet.stake_minor, currency=bet.currency)
    day_start, month_start = window_starts(now)
    params = {
        "user": user.pk,
        "currency": bet.currency,
        "stake": bet.stake_minor,
        "now": now,
        "day": day_start,
        "month": month_start,
        "fx": _fx_json(),
        "kelly": kelly_by_tolerance(kelly_fraction),
        "bet": rows_json(insert_row_json(bet)),
        "legs": rows_json([insert_row_json(leg, skip="bet_id") for leg in legs]),
        "event": rows_json(event),
    }
    for _attempt in range(_ATTEMPTS):
        refusal, details, bet_id, leg_ids, _tx_id, headroom_json, recommended = _call(params)
        if refusal != "limits_due":
            break
        limit_changes_apply_due(user=user, now=now)
    headroom = None if headroom_json is None else Headroom(**_headroom_fields(_json(headroom_json)))
    if refusal is not None:
        _refuse(refusal, _json(details), headroom=headroom, bet=bet)
    # The hold's outbox event is committed; the relay is nudged once, by the booking of the
    # fill or the rejection that follows at once (the periodic relay covers a process killed
    # in between).
    assert headroom is not None  # the function computes it before it writes
    bet.pk = bet_id
    bet.limits_in_force = headroom.as_dict()
    bet.recommended_stake_minor = recommended
    bet._state.adding = False
    bet._state.db = connection.alias
    for leg, leg_id in zip(legs, leg_ids, strict=True):
        leg.pk = leg_id
        leg.bet = bet
        leg._state.adding = False
        leg._state.db = connection.alias


def _json(value: Any) -> Any:
    # Django's connection reads jsonb back as text (its JSONField decodes it).
    return json.loads(value) if isinstance(value, str) else value


def _headroom_fields(headroom: dict[str, Any]) -> dict[str, Any]:
    return {
        name: headroom[name]
        for name in (
            "currency",
            "max_bet_minor",
            "daily_limit_minor",
            "monthly_limit_minor",
            "staked_today_minor",
            "staked_month_minor",
        )
    }
