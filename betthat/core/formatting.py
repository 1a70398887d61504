"""One way to write every number and name the site shows.

Odds in the viewer's format (American, decimal or fractional, the `ui.odds_format`
preference), money with its currency code after the amount, percents, dates in the viewer's
time zone, and the display names of markets, sportsbooks and states. Templates reach these
through `betthat.core.templatetags.betthat_format`; the browser mirrors them in
`static/js/format.js` (same rules, same registry, which the page hands to it as JSON).

This module imports no domain app: callers pass plain values.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The one odds conversion (betthat.core.odds), re-exported for the formatting callers.
from betthat.core.odds import american_to_decimal as american_to_decimal
from betthat.core.odds import decimal_to_american as decimal_to_american
from betthat.core.odds import quantize_odds

DASH = "\u2013"  # a missing value

ODDS_FORMATS: tuple[str, ...] = ("american", "decimal", "fractional")
DEFAULT_ODDS_FORMAT = "american"
FRACTION_MAX_DENOMINATOR = 100

# Market keys (The Odds API's) as bettors say them.
MARKET_NAMES: dict[str, str] = {
    "h2h": "Moneyline",
    "h2h_lay": "Moneyline (lay)",
    "spreads": "Spread",
    "totals": "Total",
    "outrights": "Futures",
    "team_totals": "Team total",
    "alternate_spreads": "Alternate spread",
    "alternate_totals": "Alternate total",
    "alternate_team_totals": "Alternate team total",
    "btts": "Both teams to score",
    "draw_no_bet": "Draw no bet",
    "player_pass_yds": "Player passing yards",
    "player_pass_tds": "Player passing touchdowns",
    "player_pass_attempts": "Player pass attempts",
    "player_pass_completions": "Player pass completions",
    "player_pass_interceptions": "Player interceptions thrown",
    "player_rush_yds": "Player rushing yards",
    "player_rush_attempts": "Player rush attempts",
    "player_reception_yds": "Player receiving yards",
    "player_receptions": "Player receptions",
    "player_anytime_td": "Anytime touchdown scorer",
    "player_points": "Player points",
    "player_rebounds": "Player rebounds",
    "player_assists": "Player assists",
    "player_threes": "Player threes",
    "player_points_rebounds_assists": "Player points + rebounds + assists",
    "player_blocks": "Player blocks",
    "player_steals": "Player steals",
}

# Sportsbook keys as their brands spell them (the feed's titles win where we have them).
BOOK_NAMES: dict[str, str] = {
    "pinnacle": "Pinnacle",
    "draftkings": "DraftKings",
    "fanduel": "FanDuel",
    "betmgm": "BetMGM",
    "betrivers": "BetRivers",
    "williamhill_us": "Caesars",
    "caesars": "Caesars",
    "pointsbetus": "PointsBet",
    "betonlineag": "BetOnline.ag",
    "bovada": "Bovada",
    "mybookieag": "MyBookie.ag",
    "lowvig": "LowVig.ag",
    "betus": "BetUS",
    "unibet_us": "Unibet",
    "superbook": "SuperBook",
    "wynnbet": "WynnBET",
    "espnbet": "ESPN BET",
    "fliff": "Fliff",
    "hardrockbet": "Hard Rock Bet",
    "ballybet": "Bally Bet",
    "betfair_ex_eu": "Betfair Exchange",
    "betfair_ex_uk": "Betfair Exchange",
    "matchbook": "Matchbook",
    "marathonbet": "Marathonbet",
    "onexbet": "1xBet",
    "williamhill": "William Hill",
    "sport888": "888sport",
}

SPORT_NAMES: dict[str, str] = {
    "americanfootball_nfl": "NFL",
    "americanfootball_ncaaf": "College football",
    "basketball_nba": "NBA",
    "basketball_ncaab": "College basketball",
    "basketball_wnba": "WNBA",
    "baseball_mlb": "MLB",
    "icehockey_nhl": "NHL",
    "soccer_epl": "Premier League",
    "soccer_uefa_champs_league": "Champions League",
    "mma_mixed_martial_arts": "MMA",
}

# One name per state, whichever record it sits on: a deposit's payment "succeeded" and its
# ledger transaction "completed" are the same fact to the person who paid.
STATE_NAMES: dict[str, str] = {
    "pending": "Pending",
    "placing": "Placing",
    "rejected": "Rejected by the sportsbook",
    "processing": "Processing",
    "succeeded": "Completed",
    "completed": "Completed",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "settled": "Settled",
    "void": "Void",
    "win": "Win",
    "loss": "Loss",
    "push": "Push",
    "half_win": "Half win",
    "half_loss": "Half loss",
    "active": "Open",
    "stale": "Stale",
    "expired": "Closed",
    "scheduled": "Scheduled",
    "live": "Live",
    "final": "Final",
}

EDGE_KIND_NAMES: dict[str, str] = {"arbitrage": "Arbitrage", "positive_ev": "+EV", "middle": "Middle"}

CURRENCY_PLACES: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2}

# --- odds -------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise ValueError(f"Not a number: {value!r}") from error
    if not result.is_finite():
        raise ValueError(f"Not a number: {value!r}")
    return result


def decimal_to_fractional(price: Decimal | str | float) -> Fraction:
    """2.5 -> 3/2, 1.909 -> 10/11: the nearest fraction with a denominator up to 100."""
    d = _decimal(price)
    if d <= 1:
        raise ValueError("Decimal odds must be above 1.")
    return Fraction(d - 1).limit_denominator(FRACTION_MAX_DENOMINATOR)


def fractional_to_decimal(text: str | Fraction) -> Decimal:
    """'3/2' -> 2.5, 'evens' -> 2, '10/11' -> 1.909091."""
    if isinstance(text, Fraction):
        fraction = text
    else:
        clean = str(text).strip().lower()
        if clean in {"evens", "evs", "even"}:
            fraction = Fraction(1)
        else:
            numerator, sep, denominator = clean.partition("/")
            if not sep or not numerator.strip().isdigit() or not denominator.strip().isdigit():
                raise ValueError(f"Not fractional odds: {text!r}")
            if int(denominator) == 0 or int(numerator) == 0:
                raise ValueError(f"Not fractional odds: {text!r}")
            fraction = Fraction(int(numerator), int(denominator))
    if fraction <= 0:
        raise ValueError("Fractional odds must be above 0.")
    value = 1 + Decimal(fraction.numerator) / Decimal(fraction.denominator)
    return value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def normalise_odds_format(value: Any) -> str:
    return value if value in ODDS_FORMATS else DEFAULT_ODDS_FORMAT


def format_odds(price_decimal: Any, odds_format: str = DEFAULT_ODDS_FORMAT, *, american: Any = None) -> str:
    """A price in the chosen format. `american` (the book's own integer) wins over a
    conversion where the feed gave one."""
    if price_decimal in (None, ""):
        return DASH
    try:
        d = _decimal(price_decimal)
        if d <= 1:
            return DASH
        odds_format = normalise_odds_format(odds_format)
        if odds_format == "decimal":
            return f"{d:.2f}" if d >= 10 else f"{d:.3f}"
        if odds_format == "fractional":
            fraction = decimal_to_fractional(d)
            return f"{fraction.numerator}/{fraction.denominator}"
        value = int(american) if american not in (None, "") else decimal_to_american(d)
        return f"+{value}" if value > 0 else str(value)
    except (ValueError, TypeError):
        return DASH


def parse_odds(text: str, odds_format: str) -> Decimal:
    """Text a bettor typed in a format -> decimal odds. Raises ValueError."""
    odds_format = normalise_odds_format(odds_format)
    if odds_format == "american":
        clean = str(text).strip()
        if not clean.lstrip("+-").isdigit():
            raise ValueError(f"Not American odds: {text!r}")
        return quantize_odds(american_to_decimal(int(clean.lstrip("+"))))
    if odds_format == "fractional":
        return fractional_to_decimal(text)
    d = _decimal(str(text).strip())
    if d <= 1:
        raise ValueError("Decimal odds must be above 1.")
    return d


# --- money and percents -----------------------------------------------------------------


def format_money(minor: Any, currency: str = "USD", *, signed: bool = False) -> str:
    """Integer minor units with the currency code after the amount: 123456 -> '1,234.56 USD'."""
    if minor in (None, ""):
        return DASH
    places = CURRENCY_PLACES.get(currency, 2)
    value = int(minor)
    amount = Decimal(abs(value)).scaleb(-places)
    sign = "-" if value < 0 else ("+" if signed and value > 0 else "")
    text = f"{sign}{amount:,.{places}f}"
    return f"{text} {currency}" if currency else text


def format_amount(minor: Any, currency: str = "USD", *, signed: bool = False) -> str:
    """The amount alone, for a cell whose header already names the currency."""
    if minor in (None, ""):
        return DASH
    return format_money(minor, currency, signed=signed).removesuffix(f" {currency}")


def format_decimal_amount(value: Any, places: int = 2) -> str:
    """A Decimal amount (major units) with thousands separators: Decimal('1234.5') -> '1,234.50'."""
    if value in (None, ""):
        return DASH
    try:
        amount = _decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except ValueError:
        return DASH
    return f"{amount:,.{places}f}"


def format_percent(ratio: Any, places: int = 1, *, signed: bool = False) -> str:
    """A ratio as a percent: 0.0523 -> '5.2%'; signed adds '+' to gains."""
    if ratio in (None, ""):
        return DASH
    try:
        value = _decimal(ratio) * 100
    except ValueError:
        return DASH
    quantum = Decimal(1).scaleb(-int(places))
    value = value.quantize(quantum, rounding=ROUND_HALF_UP)
    if value == 0:
        value = abs(value)  # no "-0.0%"
    text = f"{value:.{int(places)}f}%"
    return f"+{text}" if signed and value > 0 else text


def percent_input_value(ratio: Any) -> str:
    """The value of a percent input for a stored ratio: 0.025 -> '2.5', None -> ''."""
    if ratio in (None, ""):
        return ""
    try:
        value = (_decimal(ratio) * 100).normalize()
    except ValueError:
        return ""
    return f"{value:f}"


# --- dates ------------------------------------------------------------------------------


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_datetime(value: datetime | None, tz_name: str | None = "UTC", *, with_zone: bool = True) -> str:
    """One style for every date and time: '30 Nov 2026, 14:05 EST' in the viewer's zone."""
    if value is None:
        return DASH
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    local = value.astimezone(zone(tz_name))
    text = f"{local.day} {local:%b %Y, %H:%M}"
    return f"{text} {local.tzname()}" if with_zone else text


# --- names ------------------------------------------------------------------------------


def _humanise(key: str) -> str:
    words = str(key or "").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def market_name(key: Any) -> str:
    key = str(key or "")
    return MARKET_NAMES.get(key) or _humanise(key)


def book_name(key: Any, title: str | None = None) -> str:
    key = str(key or "")
    return BOOK_NAMES.get(key) or title or _humanise(key)


def sport_name(key: Any, title: str | None = None) -> str:
    key = str(key or "")
    return SPORT_NAMES.get(key) or title or _humanise(key)


def label_text(value: Any) -> str:
    """A key that has no registry entry, written as words: 'by_month' -> 'By month'."""
    return _humanise(str(value or ""))


def state_name(value: Any) -> str:
    key = str(value or "").lower()
    return STATE_NAMES.get(key) or _humanise(key)


def names_registry() -> dict[str, dict[str, str]]:
    """What the browser needs to name things as the server does."""
    return {
        "markets": MARKET_NAMES,
        "books": BOOK_NAMES,
        "states": STATE_NAMES,
        "kinds": EDGE_KIND_NAMES,
        "sports": SPORT_NAMES,
    }


# One colour per book on every chart (stable across pages and reloads), chosen to read on the
# dark panel.
BOOK_COLOURS: dict[str, str] = {
    "pinnacle": "#f0b429",
    "draftkings": "#4ade80",
    "fanduel": "#60a5fa",
    "betmgm": "#e6c07b",
    "betrivers": "#f472b6",
    "williamhill_us": "#a78bfa",
    "caesars": "#a78bfa",
    "bovada": "#fb923c",
    "betonlineag": "#2dd4bf",
}
_PALETTE = (
    "#4ade80",
    "#60a5fa",
    "#f472b6",
    "#facc15",
    "#a78bfa",
    "#fb923c",
    "#2dd4bf",
    "#f87171",
    "#c084fc",
    "#94a3b8",
)


def book_colour(key: Any) -> str:
    key = str(key or "")
    return BOOK_COLOURS.get(key) or _PALETTE[zlib.crc32(key.encode()) % len(_PALETTE)]


MAIN_MARKETS = ("h2h", "spreads", "totals")


def market_group(key: str, player: str | None = None) -> tuple[int, str]:
    """(order, heading) of the group a market belongs to on an event page."""
    if player:
        return 3, f"Props · {player}"
    if key in MAIN_MARKETS:
        return 0, "Main lines"
    if key.startswith("alternate_"):
        return 1, "Alternate lines"
    return 2, "Other markets"


# --- the viewer's preferences -------------------------------------------------------------


def odds_format_for(user: Any) -> str:
    """The viewer's odds format; American for visitors and for a malformed preference."""
    preferences = getattr(user, "preferences", None) if getattr(user, "is_authenticated", False) else None
    ui = preferences.get("ui") if isinstance(preferences, dict) else None
    return normalise_odds_format(ui.get("odds_format") if isinstance(ui, dict) else None)


def timezone_name_for(user: Any) -> str:
    name = getattr(user, "timezone", "") if getattr(user, "is_authenticated", False) else ""
    return zone(name).key
