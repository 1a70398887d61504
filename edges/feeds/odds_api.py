"""The Odds API v4: the response shape, normalised, and the HTTP poller.

Shapes read: `/v4/sports/{sport}/odds` (a list of events) and
`/v4/sports/{sport}/events/{id}/odds` (one event). Each event has `bookmakers` ->
`markets` -> `outcomes` with `name`, `price` (American integers or decimals, by the
request's oddsFormat), optional `point` and, for player props, `description`.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
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
        provider_id = raw_event.get("id")
        home, away = raw_event.get("home_team"), raw_event.get("away_team")
        commence = _time(raw_event.get("commence_time"))
        sport_key = raw_event.get("sport_key")
        missing = [
            name
            for name, value in (
                ("id", provider_id),
                ("sport_key", sport_key),
                ("home_team", home),
                ("away_team", away),
            )
            if not isinstance(value, str) or not value.strip()
        ]
        if missing:
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
        home_points = {p for _pl, n, p, _d, _a in parsed if n == home}
        away_points = {p for _pl, n, p, _d, _a in parsed if n == away}
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


def ingest_v4(payload: Any, *, odds_format: str = "auto", now: datetime | None = None) -> IngestReport:
    parsed = parse_v4(payload, odds_format=odds_format)
    report = parsed.report
    ingest_updates(updates=parsed.updates, events=parsed.events, now=now, report=report)
    return report


# --- the HTTP poller ---------------------------------------------------------------


class QuotaExhausted(Exception):
    pass


@dataclass
class PollResult:
    sport: str
    report: IngestReport | None
    requests_remaining: int | None
    requests_used: int | None
    skipped_reason: str = ""


class OddsApiPoller:
    """Polls `/v4/sports/{sport}/odds` for each configured sport and ingests the answer.

    Respects the quota headers: stops once `x-requests-remaining` falls to `reserve`, and
    never polls a sport more often than `min_interval` seconds (the API refreshes featured
    markets every 40-60 s, so faster polling buys nothing but quota).
    """

    def __init__(
        self,
        *,
        session=None,
        api_key: str | None = None,
        base_url: str | None = None,
        sports: list[str] | None = None,
        regions: str | None = None,
        markets: str | None = None,
        reserve: int = 10,
        min_interval: float = 30.0,
        odds_format: str = "decimal",
    ) -> None:
        import requests

        self.session = session or requests.Session()
        self.api_key = api_key if api_key is not None else settings.ODDS_API_KEY
        self.base_url = (base_url or settings.ODDS_API_BASE_URL).rstrip("/")
        self.sports = sports or list(settings.ODDS_API_SPORTS)
        self.regions = regions or settings.ODDS_API_REGIONS
        self.markets = markets or settings.ODDS_API_MARKETS
        self.reserve = reserve
        self.min_interval = min_interval
        self.odds_format = odds_format
        self.requests_remaining: int | None = None
        self.requests_used: int | None = None
        self._last_poll: dict[str, float] = {}

    def _read_quota(self, headers) -> None:
        for header, attribute in (
            ("x-requests-remaining", "requests_remaining"),
            ("x-requests-used", "requests_used"),
        ):
            value = headers.get(header)
            if value is not None:
                try:
                    setattr(self, attribute, int(float(value)))
                except ValueError:
                    logger.warning("odds api sent a bad %s header: %r", header, value)

    def poll_sport(self, sport: str, *, now: float | None = None) -> PollResult:
        now = time.monotonic() if now is None else now
        if not self.api_key:
            return PollResult(sport, None, self.requests_remaining, self.requests_used, "no ODDS_API_KEY set")
        if self.requests_remaining is not None and self.requests_remaining <= self.reserve:
            return PollResult(
                sport, None, self.requests_remaining, self.requests_used, "quota reserve reached"
            )
        last = self._last_poll.get(sport)
        if last is not None and now - last < self.min_interval:
            return PollResult(sport, None, self.requests_remaining, self.requests_used, "polled too recently")
        self._last_poll[sport] = now
        response = self.session.get(
            f"{self.base_url}/v4/sports/{sport}/odds",
            params={
                "apiKey": self.api_key,
                "regions": self.regions,
                "markets": self.markets,
                "oddsFormat": self.odds_format,
                "dateFormat": "iso",
            },
            timeout=15,
        )
        self._read_quota(response.headers)
        if response.status_code != 200:
            return PollResult(
                sport, None, self.requests_remaining, self.requests_used, f"HTTP {response.status_code}"
            )
        try:
            payload = response.json()
        except ValueError:
            return PollResult(
                sport, None, self.requests_remaining, self.requests_used, "response is not JSON"
            )
        report = ingest_v4(payload, odds_format=self.odds_format)
        return PollResult(sport, report, self.requests_remaining, self.requests_used)

    def poll_all(self) -> list[PollResult]:
        return [self.poll_sport(sport) for sport in self.sports]
