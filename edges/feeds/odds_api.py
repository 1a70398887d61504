"""The Odds API v4: the response shape, normalised, and the HTTP poller.

Shapes read: `/v4/sports/{sport}/odds` (a list of events) and
`/v4/sports/{sport}/events/{id}/odds` (one event). Each event has `bookmakers` ->
`markets` -> `outcomes` with `name`, `price` (American integers or decimals, by the
request's oddsFormat), optional `point` and, for player props, `description`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime

from edges import pricing
from edges.ingest import EventData, IngestReport, QuoteUpdate, ingest_updates
from edges.models import FULL_GAME, SIMULATED_PREFIX

logger = logging.getLogger(__name__)

SIDES = {"over": "Over", "under": "Under", "yes": "Yes", "no": "No"}
_PERIOD = re.compile(r"^(?P<key>.+?)_(?P<period>q[1-4]|h[12]|p[1-3]|1st_\d+_innings)$")
PROP_PREFIXES = ("player_", "batter_", "pitcher_")


@dataclass
class Parsed:
    events: list[EventData]
    updates: list[QuoteUpdate]
    report: IngestReport


def _text(raw: Any) -> str | None:
    """A non-blank string field, else None (reported missing)."""
    return raw if isinstance(raw, str) and raw.strip() else None


def _time(raw: Any) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        return parse_datetime(raw)
    except ValueError:
        return None


def _point(raw: Any) -> Decimal | None:
    if raw is None or isinstance(raw, bool):
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"bad point {raw!r}") from None
    if not value.is_finite():
        raise ValueError(f"bad point {raw!r}")
    return value.quantize(Decimal("0.01"))


def _price(raw: Any, odds_format: str) -> tuple[Decimal, int]:
    try:
        return _price_in(raw, odds_format)
    except InvalidOperation:  # "abc", "1e999999": not a price, never a crash
        raise pricing.PricingError(f"not a price: {raw!r}") from None


def _price_in(raw: Any, odds_format: str) -> tuple[Decimal, int]:
    if odds_format == "american":
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise pricing.PricingError(f"not a price: {raw!r}")
        d = pricing.american_to_decimal(Decimal(str(raw)))
        return pricing.quantize_odds(d), int(Decimal(str(raw)))
    if odds_format == "decimal":
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise pricing.PricingError(f"not a price: {raw!r}")
        d = pricing.quantize_odds(Decimal(str(raw)))
        if d <= 1:
            raise pricing.PricingError(f"decimal price must be above 1: {raw!r}")
        return d, pricing.decimal_to_american(d)
    return pricing.parse_price(raw)


def split_period(market_key: str) -> tuple[str, str]:
    match = _PERIOD.match(market_key)
    if match:
        return match["key"], match["period"]
    return market_key, FULL_GAME


def _prop_player_and_side(outcome: dict[str, Any]) -> tuple[str, str]:
    """Which of name / description holds the player: the other must be a side."""
    name = str(outcome.get("name") or "").strip()
    description = str(outcome.get("description") or "").strip()
    if name.lower() in SIDES and description and description.lower() not in SIDES:
        return description, SIDES[name.lower()]
    if description.lower() in SIDES and name and name.lower() not in SIDES:
        return name, SIDES[description.lower()]
    raise ValueError(
        "prop outcome names no player (need a side in one of name/description, the player in the other)"
    )


def parse_v4(payload: Any, *, odds_format: str = "auto") -> Parsed:
    """Normalise a v4 response into events and quote updates; malformed parts are reported."""
    report = IngestReport()
    events: list[EventData] = []
    updates: list[QuoteUpdate] = []
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        report.problem("payload", "not a list of events or an event")
        return Parsed(events, updates, report)
    for index, raw_event in enumerate(payload):
        where = f"event[{index}]"
        if not isinstance(raw_event, dict):
            report.problem(where, "event is not an object")
            continue
        provider_id = _text(raw_event.get("id"))
        home, away = _text(raw_event.get("home_team")), _text(raw_event.get("away_team"))
        commence = _time(raw_event.get("commence_time"))
        sport_key = _text(raw_event.get("sport_key"))
        if provider_id is None or sport_key is None or home is None or away is None:
            missing = [
                name
                for name, value in (
                    ("id", provider_id),
                    ("sport_key", sport_key),
                    ("home_team", home),
                    ("away_team", away),
                )
                if value is None
            ]
            report.problem(where, f"event missing {', '.join(missing)}")
            continue
        if commence is None:
            report.problem(f"{where} {provider_id}", "event has no valid commence_time")
            continue
        if provider_id.startswith(SIMULATED_PREFIX):
            report.problem(
                f"{where} {provider_id}", f"provider ids starting {SIMULATED_PREFIX!r} are the demo feed's"
            )
            continue
        where = f"event {provider_id}"
        events.append(
            EventData(
                provider_id=provider_id,
                sport_key=sport_key,
                sport_title=str(raw_event.get("sport_title") or sport_key),
                home_team=home,
                away_team=away,
                commence_time=commence,
            )
        )
        bookmakers = raw_event.get("bookmakers") or []
        if not isinstance(bookmakers, list):
            report.problem(where, "bookmakers is not a list")
            continue
        for book in bookmakers:
            if not isinstance(book, dict) or not isinstance(book.get("key"), str):
                report.problem(where, "bookmaker without a key")
                continue
            book_where = f"{where} {book['key']}"
            book_time = _time(book.get("last_update"))
            for market in book.get("markets") or []:
                if not isinstance(market, dict) or not isinstance(market.get("key"), str):
                    report.problem(book_where, "market without a key")
                    continue
                last_update = _time(market.get("last_update")) or book_time
                if last_update is None:
                    report.problem(f"{book_where} {market['key']}", "market has no valid last_update")
                    continue
                _parse_market(
                    market,
                    event=(provider_id, home, away),
                    book=(book["key"], str(book.get("title") or book["key"])),
                    last_update=last_update,
                    odds_format=odds_format,
                    updates=updates,
                    report=report,
                    where=f"{book_where} {market['key']}",
                )
    return Parsed(events, updates, report)


def _parse_market(market, *, event, book, last_update, odds_format, updates, report, where) -> None:
    provider_id, home, away = event
    key, period = split_period(market["key"])
    outcomes = market.get("outcomes")
    if not isinstance(outcomes, list) or not outcomes:
        report.problem(where, "market has no outcomes")
        return
    is_prop = key.startswith(PROP_PREFIXES)
    parsed: list[tuple[str, str, Decimal | None, Decimal, int]] = []  # player, name, point, d, american
    for position, outcome in enumerate(outcomes):
        o_where = f"{where} outcome[{position}]"
        if not isinstance(outcome, dict):
            report.problem(o_where, "outcome is not an object")
            continue
        try:
            price_decimal, american = _price(outcome.get("price"), odds_format)
            point = _point(outcome.get("point"))
            if is_prop:
                player, name = _prop_player_and_side(outcome)
            else:
                player, name = "", str(outcome.get("name") or "").strip()
                if not name:
                    raise ValueError("outcome has no name")
            if key == "spreads":
                if name not in (home, away):
                    raise ValueError(f"spread outcome {name!r} is neither team")
                if point is None:
                    raise ValueError("spread outcome has no point")
            elif key == "totals":
                if name.lower() not in ("over", "under"):
                    raise ValueError(f"totals outcome {name!r} is not Over/Under")
                name = SIDES[name.lower()]
                if point is None:
                    raise ValueError("totals outcome has no point")
        except (ValueError, pricing.PricingError) as error:
            report.problem(o_where, str(error))
            continue
        parsed.append((player, name, point, price_decimal, american))
    if key == "spreads":
        # (every spread outcome has a point: checked above)
        home_points = {p for _pl, n, p, _d, _a in parsed if n == home and p is not None}
        away_points = {p for _pl, n, p, _d, _a in parsed if n == away and p is not None}
        # the line is the home handicap; a lone away quote implies it
        line = next(iter(home_points)) if len(home_points) == 1 else None
        if line is None and len(away_points) == 1 and not home_points:
            line = -next(iter(away_points))
        if line is None:
            report.problem(where, "spread market has no single home line")
            return
        for player, name, point, d, american in parsed:
            updates.append(
                _update(provider_id, book, key, period, name, point, line, player, d, american, last_update)
            )
    elif key == "totals" or is_prop:
        for player, name, point, d, american in parsed:
            updates.append(
                _update(provider_id, book, key, period, name, point, point, player, d, american, last_update)
            )
    else:
        for player, name, point, d, american in parsed:
            updates.append(
                _update(provider_id, book, key, period, name, point, None, player, d, american, last_update)
            )


def _update(
    provider_id, book, key, period, name, point, line, player, d, american, last_update
) -> QuoteUpdate:
    return QuoteUpdate(
        event_provider_id=provider_id,
        book_key=book[0],
        book_title=book[1],
        market_key=key,
        outcome_name=name,
        price_decimal=d,
        price_american=american,
        last_update=last_update,
        line=line,
        outcome_point=point,
        player=player,
        period=period,
    )


def ingest_v4(
    payload: Any,
    *,
    odds_format: str = "auto",
    now: datetime | None = None,
    report: IngestReport | None = None,
) -> IngestReport:
    """Normalise a v4 odds answer and send it down the quote path; malformed parts are
    counted and skipped in the report."""
    parsed = parse_v4(payload, odds_format=odds_format)
    report = report or IngestReport()
    report.merge(parsed.report)
    ingest_updates(updates=parsed.updates, events=parsed.events, now=now, report=report)
    return report


# --- scores ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreResult:
    """One completed game of a `/v4/sports/{sport}/scores` answer."""

    provider_id: str
    home_score: int
    away_score: int


def _team_score(entry: dict[str, Any], team: Any) -> int:
    for item in entry.get("scores") or []:
        if isinstance(item, dict) and item.get("name") == team:
            raw = item.get("score")
            if isinstance(raw, bool) or not isinstance(raw, (int, str)) or not str(raw).strip().isdigit():
                raise ValueError(f"score of {team} is not a whole number: {raw!r}")
            return int(str(raw).strip())
    raise ValueError(f"no score for {team}")


def parse_scores(payload: Any, report: IngestReport) -> list[ScoreResult]:
    """The completed games of a scores answer; malformed entries are reported and skipped,
    games still in play are left for a later poll."""
    if not isinstance(payload, list):
        report.problem("payload", "scores answer is not a list of games")
        return []
    results: list[ScoreResult] = []
    for index, entry in enumerate(payload):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
            report.problem(f"game[{index}]", "game without an id")
            continue
        if entry.get("completed") is not True:
            continue
        try:
            home = _team_score(entry, entry.get("home_team"))
            away = _team_score(entry, entry.get("away_team"))
        except ValueError as error:
            report.problem(f"game {entry['id']}", str(error))
            continue
        results.append(ScoreResult(provider_id=entry["id"], home_score=home, away_score=away))
    return results
