"""Placing and cancelling bets.

`bet_place` runs every check first (account, KYC and geo hooks, self-exclusion, the slip's
shape, market open, price), then one database transaction: the user's wallet accounts are
locked (so concurrent bets of one user are serialised), the limits are checked against the
sums under that lock, the Bet and its legs are written, the stake is held, the venue fills
the ticket and `bet.placed` goes to the outbox. Any refusal rolls all of it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone

from betthat.core.errors import ApplicationError, NotFound
from betthat.core.outbox import publish
from betthat.users.compliance import check_geo, check_kyc
from betthat.users.models import User
from betting import exposure, grading
from betting.models import Bet, BetLeg, SameGameQuote
from betting.services.limits import check_limits, limit_headroom
from betting.venues import Ticket, venue
from edges import pricing
from edges.models import Edge, Event, Market, Outcome, Sport
from edges.selectors import quote_price_current
from wallet.locks import lock_user_accounts
from wallet.services import wallet_hold, wallet_release

MAX_LEGS = 12
PRICE_POLICIES = ("none", "better", "any")
PricePolicy = Literal["none", "better", "any"]


@dataclass(frozen=True)
class LegRequest:
    outcome_id: int
    sportsbook: str
    odds_decimal: Decimal


@dataclass
class _PricedLeg:
    outcome: Outcome
    requested: Decimal
    price: Decimal
    version: int


def _check_account(user: User) -> None:
    if not user.is_authenticated:
        raise ApplicationError("Log in to bet.", code="not_authenticated", status=401)
    if not user.is_active or user.status != User.Status.ACTIVE:
        raise ApplicationError("Your account is not active.", code="account_suspended", status=403)
    if user.is_self_excluded:
        raise ApplicationError(
            "You have excluded yourself from betting.",
            code="self_excluded",
            status=403,
            details={"until": user.self_excluded_until.isoformat()},
        )


def _check_stake(stake_minor: int, currency: str) -> None:
    if not isinstance(stake_minor, int) or stake_minor <= 0:
        raise ApplicationError("The stake must be a positive amount.", code="invalid_amount")
    if currency not in settings.CURRENCIES:
        raise ApplicationError(
            f"{currency} is not a supported currency.",
            code="validation_error",
            details={"currency": currency},
        )


_OUTCOMES_SQL = f"""
SELECT o.id, o.name, o.point,
       m.id, m.key, m.point, m.player, m.period, m.is_suspended,
       e.id, e.home_team, e.away_team, e.commence_time, e.status,
       s.id, s.key
  FROM {Outcome._meta.db_table} o
  JOIN {Market._meta.db_table} m ON m.id = o.market_id
  JOIN {Event._meta.db_table} e ON e.id = m.event_id
  JOIN {Sport._meta.db_table} s ON s.id = e.sport_id
 WHERE o.id = ANY(%s)
"""


def _fetch_outcomes(ids: list[int]) -> dict[int, Outcome]:
    """The legs' outcomes with their market, event and sport (only the columns placement
    reads), in one statement: the ORM's four-model select_related was the most expensive
    read of a placement in CPU."""
    with connection.cursor() as cursor:
        cursor.execute(_OUTCOMES_SQL, [list(set(ids))])
        rows = cursor.fetchall()
    outcomes = {}
    for (
        outcome_id,
        name,
        outcome_point,
        market_id,
        key,
        market_point,
        player,
        period,
        is_suspended,
        event_id,
        home_team,
        away_team,
        commence_time,
        event_status,
        sport_id,
        sport_key,
    ) in rows:
        event = Event(
            id=event_id,
            sport_id=sport_id,
            home_team=home_team,
            away_team=away_team,
            commence_time=commence_time,
            status=event_status,
        )
        event.sport = Sport(id=sport_id, key=sport_key)
        market = Market(
            id=market_id,
            event_id=event_id,
            key=key,
            point=market_point,
            player=player,
            period=period,
            is_suspended=is_suspended,
        )
        market.event = event
        outcome = Outcome(id=outcome_id, market_id=market_id, name=name, point=outcome_point)
        outcome.market = market
        outcomes[outcome_id] = outcome
    return outcomes


def _load_outcomes(legs: list[LegRequest]) -> dict[int, Outcome]:
    ids = [leg.outcome_id for leg in legs]
    outcomes = _fetch_outcomes(ids)
    missing = [i for i in ids if i not in outcomes]
    if missing:
        raise ApplicationError("No such outcome.", code="validation_error", details={"outcome_id": missing})
    return outcomes


def _check_slip(legs: list[LegRequest], outcomes: dict[int, Outcome]) -> str:
    """The slip's shape; returns the sportsbook."""
    if not legs:
        raise ApplicationError("A bet has at least one leg.", code="invalid_parlay")
    if len(legs) > MAX_LEGS:
        raise ApplicationError(
            f"A parlay has at most {MAX_LEGS} legs.", code="invalid_parlay", details={"legs": len(legs)}
        )
    books = {leg.sportsbook for leg in legs}
    if len(books) != 1:
        raise ApplicationError(
            "Every leg of a parlay is placed at the same sportsbook.",
            code="invalid_parlay",
            details={"sportsbooks": sorted(books)},
        )
    markets = [outcomes[leg.outcome_id].market_id for leg in legs]
    if len(set(markets)) != len(markets):
        raise ApplicationError(
            "Each leg of a parlay comes from a different market.",
            code="invalid_parlay",
        )
    families = [
        (
            outcomes[leg.outcome_id].market.event_id,
            outcomes[leg.outcome_id].market.key,
            outcomes[leg.outcome_id].market.player,
        )
        for leg in legs
    ]
    if len(set(families)) != len(families):
        raise ApplicationError(
            "Two lines of the same market cannot be combined.",
            code="invalid_parlay",
        )
    return books.pop()


def _check_open(outcome: Outcome, now) -> None:
    market = outcome.market
    event = market.event
    if event.status != Event.Status.SCHEDULED or event.commence_time <= now or market.is_suspended:
        raise ApplicationError(
            "This market is closed.",
            code="market_closed",
            status=409,
            details={"outcome_id": outcome.pk, "event_status": event.status},
        )


def _price_moved(requested: Decimal, current: Decimal, policy: str) -> bool:
    if policy == "any":
        return False
    if policy == "better":
        return current < requested
    return current != requested


def _price_legs(
    legs: list[LegRequest], outcomes: dict[int, Outcome], book: str, policy: str
) -> list[_PricedLeg]:
    now = timezone.now()
    priced = []
    for leg in legs:
        outcome = outcomes[leg.outcome_id]
        _check_open(outcome, now)
        quote = quote_price_current(outcome_id=outcome.pk, sportsbook_key=book)
        if quote is None:
            raise ApplicationError(
                f"{book} is not offering a price on this outcome.",
                code="market_closed",
                status=409,
                details={"outcome_id": outcome.pk, "sportsbook": book},
            )
        priced.append(_PricedLeg(outcome, leg.odds_decimal, quote[0], quote[1]))
    moved = [p for p in priced if _price_moved(p.requested, p.price, policy)]
    if moved:
        raise ApplicationError(
            "The price has changed.",
            code="price_changed",
            status=409,
            details={
                "accept_price_change": policy,
                "legs": [
                    {"outcome_id": p.outcome.pk, "requested": str(p.requested), "current": str(p.price)}
                    for p in priced
                ],
                "current_price": str(priced[0].price) if len(priced) == 1 else None,
            },
        )
    return priced


def _combined_price(priced: list[_PricedLeg], book: str) -> tuple[Decimal, str]:
    """The bet's price and kind. Legs of one game need the venue's same-game price."""
    if len(priced) == 1:
        return priced[0].price, Bet.Kind.STRAIGHT
    by_event: dict[int, list[_PricedLeg]] = {}
    for p in priced:
        by_event.setdefault(p.outcome.market.event_id, []).append(p)
    parts: list[Decimal] = []
    has_same_game = False
    for event_id, group in by_event.items():
        if len(group) == 1:
            parts.append(group[0].price)
            continue
        has_same_game = True
        key = SameGameQuote.key_for(p.outcome.pk for p in group)
        quote = SameGameQuote.objects.filter(sportsbook_id=book, event_id=event_id, selection_key=key).first()
        if quote is None:
            raise ApplicationError(
                f"{book} does not offer this same-game parlay.",
                code="sgp_not_offered",
                details={"event_id": event_id, "outcome_ids": [p.outcome.pk for p in group]},
            )
        parts.append(quote.price_decimal)
    price = grading.combined_price(parts)
    if price <= 1:
        raise ApplicationError("This combination has no price.", code="invalid_parlay")
    return price, Bet.Kind.SAME_GAME if has_same_game else Bet.Kind.PARLAY


def _leg_type(kind: str, outcome: Outcome) -> str:
    if grading.market_type_of(outcome.market.key) == "prop" and kind == Bet.Kind.STRAIGHT:
        return BetLeg.LegType.PROP
    return {
        Bet.Kind.STRAIGHT: BetLeg.LegType.STRAIGHT,
        Bet.Kind.PARLAY: BetLeg.LegType.PARLAY,
        Bet.Kind.SAME_GAME: BetLeg.LegType.SAME_GAME,
    }[kind]


def bet_place(
    *,
    user: User,
    legs: list[LegRequest],
    stake_minor: int,
    currency: str = "USD",
    accept_price_change: PricePolicy = "none",
    edge_id: str = "",
    idempotency_key: str = "",
    region: str = "",
    savepoint: bool = True,
) -> Bet:
    """Place a straight bet (one leg) or a parlay (2-12 legs) at one sportsbook.

    Guarantees: either everything (hold, bet, legs, venue ticket, `bet.placed`) or nothing;
    the user's limits and balance hold even under concurrent placements (they are checked
    under the wallet lock, in the same transaction as the hold).
    """
    _check_account(user)
    _check_stake(stake_minor, currency)
    check_kyc(user, amount_minor=stake_minor)
    check_geo(user, region=region)
    if accept_price_change not in PRICE_POLICIES:
        raise ApplicationError(
            "accept_price_change is none, better or any.",
            code="validation_error",
            details={"accept_price_change": accept_price_change},
        )
    outcomes = _load_outcomes(legs)
    book = _check_slip(legs, outcomes)
    priced = _price_legs(legs, outcomes, book, accept_price_change)
    price, kind = _combined_price(priced, book)
    edge = _edge_snapshot(edge_id) if edge_id else None

    first = priced[0].outcome
    events = {p.outcome.market.event_id for p in priced}
    market_type = grading.market_type_of(first.market.key) if kind == Bet.Kind.STRAIGHT else "parlay"
    potential = grading.potential_return_minor(stake_minor, price)
    now = timezone.now()
    try:
        # `savepoint=False` is for callers whose own transaction ends with any refusal (the
        # API's Idempotency-Key block): two round trips fewer per placement.
        with transaction.atomic(savepoint=savepoint):
            accounts = lock_user_accounts(user_id=user.pk, currency=currency)
            headroom = limit_headroom(user=user, currency=currency, now=now)
            check_limits(headroom=headroom, stake_minor=stake_minor)
            if edge is not None:
                edge["recommended_stake_minor"] = pricing.recommended_stake_minor(
                    available_minor=accounts.cash.balance_minor,
                    kelly_fraction=float(edge["kelly_fraction"]),
                    risk_tolerance=user.risk_tolerance,
                    max_kelly_fraction=user.max_kelly_fraction,
                    cap_minor=headroom.stake_cap_minor,
                )
            bet = Bet(
                user_id=user.pk,
                event_id=events.pop() if len(events) == 1 else None,
                edge_id=edge_id,
                kind=kind,
                market_type=market_type,
                sport_key=first.market.event.sport.key,
                currency=currency,
                stake_minor=stake_minor,
                odds_decimal=price,
                odds_american=grading.american_from_decimal(price),
                potential_return_minor=potential,
                sportsbook_id=book,
                placed_at=now,
                kelly_fraction=edge["kelly_fraction"] if edge else None,
                fair_odds_decimal=edge["fair_odds_decimal"] if edge else None,
                recommended_stake_minor=edge["recommended_stake_minor"] if edge else None,
                limits_in_force=headroom.as_dict(),
                idempotency_key=idempotency_key,
                created_by_id=user.pk,
            )
            bet_legs = [
                BetLeg(
                    position=index,
                    event_id=p.outcome.market.event_id,
                    market_id=p.outcome.market_id,
                    outcome_id=p.outcome.pk,
                    price_decimal=p.price,
                    quote_version=p.version,
                    point=p.outcome.point if p.outcome.point is not None else p.outcome.market.point,
                    leg_type=_leg_type(kind, p.outcome),
                    attributes=_leg_attributes(p.outcome),
                )
                for index, p in enumerate(priced)
            ]
            _insert_bet_with_legs(bet, bet_legs)
            wallet_hold(
                user=user,
                amount_minor=stake_minor,
                currency=currency,
                bet_id=bet.pk,
                sportsbook_id=book,
                created_by=user,
            )
            execution = venue().execute(
                Ticket(
                    bet.pk, user.pk, book, stake_minor, currency, price, tuple(p.outcome.pk for p in priced)
                )
            )
            if not execution.is_accepted:
                raise ApplicationError(
                    execution.reason or "The sportsbook rejected the bet.",
                    code="venue_rejected",
                    status=409,
                    details={"sportsbook": book, "venue_rejected": True},
                )
            bet.external_id = execution.external_id
            with connection.cursor() as cursor:  # bet.save(update_fields=["external_id"]), uncompiled
                cursor.execute(
                    f"UPDATE {Bet._meta.db_table} SET external_id = %s WHERE id = %s",
                    [bet.external_id, bet.pk],
                )
            bet.placed_legs = bet_legs  # the response needs no second read of them
            publish("bet.placed", bet_event_payload(bet, bet_legs))
            exposure.exposure_add_on_commit(
                exposure.deltas_for(
                    [(leg.event_id, leg.market_id) for leg in bet_legs],
                    stake_minor,
                    potential - stake_minor,
                    +1,
                )
            )
    except IntegrityError as error:
        if idempotency_key and "bet_user_idempotency_uniq" in str(error):
            raise ApplicationError(
                "This Idempotency-Key was already used for another bet.",
                code="idempotency_conflict",
                status=409,
            ) from error
        raise
    return bet


_INSERT_FIELDS: dict[type, tuple[list[str], list]] = {}


def _insert_fields(model) -> tuple[list[str], list]:
    """(quoted columns, fields) that an INSERT of `model` writes, computed once per model."""
    if model not in _INSERT_FIELDS:
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        _INSERT_FIELDS[model] = ([connection.ops.quote_name(f.column) for f in fields], fields)
    return _INSERT_FIELDS[model]


def _insert_columns(instance, db, *, skip: str = "") -> tuple[list[str], list]:
    """The columns and values `Model.save()` would insert (defaults, auto_now included);
    `db` is the connection itself (not the `connection` proxy, costly per attribute)."""
    all_columns, fields = _insert_fields(type(instance))
    columns, values = [], []
    for column, field in zip(all_columns, fields, strict=True):
        if field.attname == skip:
            continue
        columns.append(column)
        values.append(field.get_db_prep_save(field.pre_save(instance, True), db))
    return columns, values


def _insert_bet_with_legs(bet: Bet, legs: list[BetLeg]) -> None:
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


def _leg_attributes(outcome: Outcome) -> dict:
    market = outcome.market
    return {
        "market_key": market.key,
        "outcome_name": outcome.name,
        "player": market.player,
        "period": market.period,
        "alternate_line": market.key.startswith("alternate_"),
        "matchup": f"{market.event.away_team} @ {market.event.home_team}",
    }


def _edge_snapshot(edge_id: str) -> dict | None:
    edge = Edge.objects.filter(edge_id=edge_id).values("kelly_fraction", "fair_odds_decimal").first()
    if edge is None:
        raise NotFound(f"No edge {edge_id}.", details={"edge_id": edge_id})
    return {
        "kelly_fraction": Decimal(repr(edge["kelly_fraction"])).quantize(Decimal("0.000001")),
        "fair_odds_decimal": edge["fair_odds_decimal"],
        "recommended_stake_minor": None,
    }


def bet_event_payload(bet: Bet, legs: list[BetLeg] | None = None) -> dict:
    payload = {
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


def bet_cancel(*, user: User, bet_id: int, now=None) -> Bet:
    """Cancel a pending bet before any of its events starts, if the venue allows it; the
    stake is released (BET_REFUND). Only the bet's owner can cancel it."""
    now = now or timezone.now()
    with transaction.atomic():
        bet = Bet.objects.select_for_update().filter(pk=bet_id, user_id=user.pk).first()
        if bet is None:
            raise NotFound("No such bet.")
        if bet.status != Bet.Status.PENDING:
            raise ApplicationError(
                "Only a pending bet can be cancelled.",
                code="not_cancellable",
                status=409,
                details={"status": bet.status},
            )
        legs = list(bet.legs.select_related("event"))
        if any(leg.event.status != Event.Status.SCHEDULED or leg.event.commence_time <= now for leg in legs):
            raise ApplicationError(
                "The event has started: the bet stands.", code="not_cancellable", status=409
            )
        connector = venue()
        if not connector.can_cancel(
            sportsbook=bet.sportsbook_id, external_id=bet.external_id
        ) or not connector.cancel(sportsbook=bet.sportsbook_id, external_id=bet.external_id):
            raise ApplicationError(
                f"{bet.sportsbook_id} does not allow this bet to be cancelled.",
                code="not_cancellable",
                status=409,
            )
        wallet_release(
            user=user, amount_minor=bet.stake_minor, currency=bet.currency, bet_id=bet.pk, created_by=user
        )
        bet.status = Bet.Status.CANCELLED
        bet.cancelled_at = now
        bet.actual_return_minor = bet.stake_minor
        bet.net_profit_minor = 0
        bet.settlement_note = "Cancelled by the bettor."
        bet.save(
            update_fields=[
                "status",
                "cancelled_at",
                "actual_return_minor",
                "net_profit_minor",
                "settlement_note",
                "updated_at",
            ]
        )
        publish("bet.cancelled", bet_event_payload(bet))
        exposure.exposure_add_on_commit(
            exposure.deltas_for(
                [(leg.event_id, leg.market_id) for leg in legs],
                bet.stake_minor,
                bet.potential_return_minor - bet.stake_minor,
                -1,
            )
        )
    return bet
