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


@transaction.atomic
def _ingest(
    *, updates: list[QuoteUpdate], events: list[EventData], now: datetime | None, report: IngestReport
) -> IngestReport:
    started = time.perf_counter()
    batch_at = time.time()
    now = now or timezone.now()
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
