"""What every feed hands the quote path: events, quote updates, and the batch's report; and
the first step of a batch, from updates to one row per (outcome, book) ready to upsert."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final

from edges.models import FULL_GAME

# An upsert row: (outcome_id, sportsbook_id, price_decimal, price_american, point, last_update,
# received_at, version, is_suspended), the column order of the upsert statement.
QuoteRowIn = tuple[int, int, Decimal, int, Decimal | None, datetime, datetime, int, bool]
VERSION: Final = 7  # position of the version in a QuoteRowIn


@dataclass(frozen=True, slots=True)
class EventData:
    provider_id: str
    sport_key: str
    sport_title: str
    home_team: str
    away_team: str
    commence_time: datetime


@dataclass(frozen=True, slots=True)
class QuoteUpdate:
    event_provider_id: str
    book_key: str
    market_key: str
    outcome_name: str
    price_decimal: Decimal
    price_american: int
    last_update: datetime
    line: Decimal | None = None
    outcome_point: Decimal | None = None
    player: str = ""
    period: str = FULL_GAME
    is_suspended: bool = False
    book_title: str = ""


@dataclass
class IngestReport:
    events: int = 0
    quotes_received: int = 0
    quotes_accepted: int = 0
    quotes_ignored: int = 0
    markets_touched: int = 0
    edges_upserted: int = 0
    edges_removed: int = 0
    skipped: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def problem(self, where: str, reason: str) -> None:
        self.skipped += 1
        self.problems.append({"where": where, "reason": reason})

    def merge(self, other: IngestReport) -> None:
        for name in (
            "events",
            "quotes_received",
            "quotes_accepted",
            "quotes_ignored",
            "markets_touched",
            "edges_upserted",
            "edges_removed",
            "skipped",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems.extend(other.problems)
        self.seconds += other.seconds

    def reasons(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for problem in self.problems:
            counts[problem["reason"]] += 1
        return dict(counts)


def version_of(moment: datetime) -> int:
    """A quote's (and an edge's) version: the moment in microseconds."""
    return int(moment.timestamp() * 1_000_000)


def latest_rows(
    identified: list[tuple[QuoteUpdate, int, int]], *, now: datetime, report: IngestReport
) -> list[QuoteRowIn]:
    """One upsert row per (outcome, book): the newest update of the batch wins; the others
    count as ignored. `identified` holds (update, outcome id, book id)."""
    latest: dict[tuple[int, int], QuoteRowIn] = {}
    for update, outcome_id, book_id in identified:
        version = version_of(update.last_update)
        key = (outcome_id, book_id)
        previous = latest.get(key)
        if previous is not None:
            report.quotes_ignored += 1
            if previous[VERSION] >= version:
                continue
        latest[key] = (
            outcome_id,
            book_id,
            update.price_decimal,
            update.price_american,
            update.outcome_point,
            update.last_update,
            now,
            version,
            update.is_suspended,
        )
    return list(latest.values())
