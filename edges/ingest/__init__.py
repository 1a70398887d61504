"""The one quote path every feed uses (file, HTTP poller, simulator).

normalised updates (`normalise`) -> events, markets, outcomes resolved in bulk with cached
ids, then quotes upserted in one statement that only accepts a newer version and appends the
history in the same statement (`upsert`) -> the touched families recomputed once per batch
(`recompute`) -> edges upserted / expired (`store`) -> hot cache snapshots and websocket
deltas after commit.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from edges.ingest.normalise import EventData, IngestReport, QuoteUpdate, latest_rows, version_of
from edges.ingest.recompute import recompute
from edges.ingest.upsert import (
    QUOTE_CHUNK,
    book_infos,
    clear_identity_caches,
    ensure_events,
    open_event_ids,
    resolve_identities,
    suspend_moved_lines,
    upsert_quotes,
)

__all__ = [
    "QUOTE_CHUNK",
    "EventData",
    "IngestReport",
    "QuoteUpdate",
    "clear_identity_caches",
    "ingest_updates",
    "version_of",
]

logger = logging.getLogger(__name__)


def ingest_updates(
    *,
    updates: list[QuoteUpdate],
    events: list[EventData] | None = None,
    now: datetime | None = None,
    report: IngestReport | None = None,
) -> IngestReport:
    """Apply a batch of quote updates in one transaction (retried once if a cached id went
    away). Updates older than (or as old as) the stored quote are ignored."""
    report = report or IngestReport()
    try:
        return _ingest(updates=updates, events=events or [], now=now, report=report)
    except IntegrityError:
        logger.warning("ingest hit a missing row; clearing id caches and retrying", exc_info=True)
        clear_identity_caches()
        return _ingest(updates=updates, events=events or [], now=now, report=report)


def _commit_without_waiting_for_the_disk() -> None:
    """Odds are market data, not money: a batch commits without waiting for its WAL to reach
    the disk (`synchronous_commit = off` for this transaction only). A database crash can
    lose the last few hundred milliseconds of committed batches, which the feed replaces
    with newer prices seconds later (versions only grow), and it never corrupts anything.
    The wait it saves was 55-90 ms of a batch's 530-730 ms here (docs/performance.md).
    Only when the batch is its own transaction: inside a caller's transaction the setting
    would cover the caller's writes too, and those may be money."""
    connection = transaction.get_connection()
    if len(connection.atomic_blocks) == 1:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


@transaction.atomic
def _ingest(
    *, updates: list[QuoteUpdate], events: list[EventData], now: datetime | None, report: IngestReport
) -> IngestReport:
    started = time.perf_counter()
    batch_at = time.time()
    now = now or timezone.now()
    _commit_without_waiting_for_the_disk()
    report.events += ensure_events(events)
    report.quotes_received += len(updates)
    if not updates:
        return report
    books = book_infos(updates)
    identified, lines, market_of = resolve_identities(open_event_ids(updates, report), books)
    rows = latest_rows(identified, now=now, report=report)
    accepted = upsert_quotes(rows)
    report.quotes_accepted += len(accepted)
    report.quotes_ignored += len(rows) - len(accepted)
    if accepted:
        suspend_moved_lines(accepted, lines)
        recompute(
            accepted=accepted, market_of=market_of, books=books, now=now, report=report, batch_at=batch_at
        )
    report.seconds += time.perf_counter() - started
    return report
