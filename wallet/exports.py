"""CSV exports of wallet transactions, streamed row by row (a year of history never sits in
memory). Amounts are decimal strings exactly as the API gives them (`12.50`, `-3.00`), so a
spreadsheet and the API agree to the cent. Timestamps are ISO 8601 in UTC.

Columns (a bettor's export): id, created_at, completed_at, type, status, currency, amount
(the headline amount, positive), fee, cash_change and held_change (the signed net change to
the user's available and held money: what the entries on the wallet page add up to), bet_id,
payment_id, sportsbook, reason. Staff's export adds user_id, user_email, created_by_id and
external_reference.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.utils import timezone

from betthat.core.errors import ApplicationError
from wallet.money import format_plain
from wallet.selectors import EXPORT_COLUMNS, STAFF_EXPORT_COLUMNS

HEADER = [header for header, _ in EXPORT_COLUMNS]
STAFF_HEADER = [header for header, _ in STAFF_EXPORT_COLUMNS]
DEFAULT_DAYS = 30
# Cells a spreadsheet would run as a formula are prefixed with a quote (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _text(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat()


def _row(values: tuple[Any, ...]) -> list[str]:
    (
        tx_id,
        created,
        completed,
        type_,
        status,
        currency,
        amount,
        fee,
        cash,
        held,
        bet,
        payment,
        book,
        reason,
    ) = values[:14]
    return [
        str(tx_id),
        _when(created),
        _when(completed),
        type_,
        status,
        currency,
        format_plain(amount),
        format_plain(fee),
        format_plain(cash),
        format_plain(held),
        "" if bet is None else str(bet),
        "" if payment is None else str(payment),
        _text(book),
        _text(reason),
    ]


def _stream(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def user_transactions_csv(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """CSV lines for `selectors.transaction_export_for_user` rows."""
    return _stream(HEADER, (_row(values) for values in rows))


def all_transactions_csv(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    """CSV lines for `selectors.transaction_export_all` rows (staff)."""
    return _stream(
        STAFF_HEADER,
        (
            [
                *_row(values),
                str(values[14]),
                _text(values[15]),
                "" if values[16] is None else str(values[16]),
                _text(values[17]),
            ]
            for values in rows
        ),
    )


def date_range(start: str | None, end: str | None, *, today: date | None = None) -> tuple[date, date]:
    """`start`/`end` as ISO dates (YYYY-MM-DD; both inclusive); the last 30 days when absent.
    400 `validation_error` for anything else, or a start after the end."""
    today = today or timezone.now().date()
    errors: dict[str, list[str]] = {}
    parsed: dict[str, date] = {}
    for name, raw, default in (("start", start, today - timedelta(days=DEFAULT_DAYS)), ("end", end, today)):
        if raw in (None, ""):
            parsed[name] = default
            continue
        try:
            if not (isinstance(raw, str) and len(raw) == 10 and raw.isascii()):
                raise ValueError(raw)
            parsed[name] = date.fromisoformat(raw)
        except ValueError:
            errors[name] = ["Use a date such as 2026-01-31."]
    if not errors and parsed["start"] > parsed["end"]:
        errors["start"] = ["The start date must not be after the end date."]
    if errors:
        raise ApplicationError("Choose a valid date range.", code="validation_error", details=errors)
    return parsed["start"], parsed["end"]


def filename(prefix: str, start: date, end: date) -> str:
    return f"{prefix}-{start.isoformat()}-to-{end.isoformat()}.csv"
