"""The bettor's bets as CSV: streamed row by row, with the same figures the API renders
(amounts as decimal strings in the bet's currency, prices to six places, times in ISO 8601
UTC), so a spreadsheet and the API agree to the cent."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from django.http import StreamingHttpResponse
from rest_framework import serializers

from betthat.core.serializers import minor_to_decimal
from betthat.users.models import User
from betting.models import Bet
from betting.selectors import BetFilters, bet_list_for_user

COLUMNS = (
    "bet_id",
    "placed_at",
    "status",
    "result",
    "kind",
    "market_type",
    "sport",
    "sportsbook",
    "selection",
    "currency",
    "stake",
    "odds_decimal",
    "odds_american",
    "potential_return",
    "actual_return",
    "net_profit",
    "settled_at",
    "cancelled_at",
    "clv_percent",
    "external_id",
)
CHUNK = 500

_TIME = serializers.DateTimeField()
_ODDS = serializers.DecimalField(max_digits=18, decimal_places=6)
_LEG_PRICE = serializers.DecimalField(max_digits=12, decimal_places=6)


class _Echo:
    """A file-like object whose write returns the line (csv.writer into a stream)."""

    def write(self, value: str) -> str:
        return value


def _amount(minor: int | None) -> str:
    return "" if minor is None else minor_to_decimal(minor)


def _time(value: Any) -> str:
    return "" if value is None else str(_TIME.to_representation(value))


def _selection(bet: Bet) -> str:
    parts = []
    for leg in bet.legs.all():
        attributes = leg.attributes or {}
        name = attributes.get("outcome_name", "")
        player = attributes.get("player", "")
        point = "" if leg.point is None else f" {leg.point}"
        label = f"{player} {name}".strip() if player else name
        parts.append(
            f"{label}{point} ({attributes.get('market_key', '')}, {attributes.get('matchup', '')}) "
            f"@ {_LEG_PRICE.to_representation(leg.price_decimal)}"
        )
    return "; ".join(parts)


def bet_row(bet: Bet) -> list[str]:
    return [
        str(bet.pk),
        _time(bet.placed_at),
        str(bet.status),
        str(bet.result),
        str(bet.kind),
        str(bet.market_type),
        str(bet.sport_key),
        str(bet.sportsbook_id),
        _selection(bet),
        str(bet.currency),
        _amount(bet.stake_minor),
        str(_ODDS.to_representation(bet.odds_decimal)),
        str(bet.odds_american),
        _amount(bet.potential_return_minor),
        _amount(bet.actual_return_minor),
        _amount(bet.net_profit_minor),
        _time(bet.settled_at),
        _time(bet.cancelled_at),
        "" if bet.clv_percent is None else str(bet.clv_percent),
        str(bet.external_id),
    ]


def csv_lines(bets: Iterable[Bet]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for bet in bets:
        yield writer.writerow([_safe_cell(cell) for cell in bet_row(bet)])


def _safe_cell(cell: str) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with a quote (CSV injection)."""
    if cell and cell[0] in "=+-@\t\r" and not _is_number(cell):
        return "'" + cell
    return cell


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def export_filename(filters: BetFilters) -> str:
    def day(value: date | None, default: str) -> str:
        return value.isoformat() if value else default

    return f"bets-{day(filters.date_from, 'start')}-to-{day(filters.date_to, 'today')}.csv"


def bets_csv_response(*, user: User, filters: BetFilters) -> StreamingHttpResponse:
    """The user's bets matching `filters`, newest first, streamed in chunks of CHUNK rows."""
    bets = bet_list_for_user(user=user, filters=filters).iterator(chunk_size=CHUNK)
    response = StreamingHttpResponse(csv_lines(bets), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(filters)}"'
    response["Cache-Control"] = "no-store"
    return response
