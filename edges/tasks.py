"""Celery tasks of the edges app (queue "odds"): thin, idempotent, safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

from edges import services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def expire_edges_task() -> dict[str, int]:
    """Every few seconds: start due events, expire edges of started events, mark stale ones."""
    return services.edges_lifecycle_tick()


@shared_task(ignore_result=True)
def cleanup_expired_edges_task() -> int:
    return services.cleanup_expired_edges()


@shared_task(ignore_result=True)
def audit_odds_snapshot_task() -> int:
    """Append the current quotes to this hour's odds audit file."""
    return services.odds_snapshot_append()


def _summary(results: list) -> dict[str, int]:
    return {
        "polled": sum(r.polled for r in results),
        "failed": sum(bool(r.error) for r in results),
        "quotes_accepted": sum(r.report.quotes_accepted for r in results),
        "parts_skipped": sum(r.report.skipped for r in results),
        "results_recorded": sum(r.results_recorded for r in results),
    }


@shared_task(ignore_result=True)
def poll_odds_api_task() -> dict[str, int]:
    """Poll The Odds API's odds for each configured sport whose time has come (a no-op
    without ODDS_API_KEY). A failing feed backs off; it never raises into the worker."""
    from edges.feeds.poller import OddsApiPoller

    try:
        return _summary(OddsApiPoller().poll_odds_due())
    except Exception:
        logger.exception("odds api poll failed")
        return {}


@shared_task(ignore_result=True)
def poll_scores_task() -> dict[str, int]:
    """Poll The Odds API's scores for sports with a game awaiting its result; completed
    games are recorded (and so graded and settled through the outbox)."""
    from edges.feeds.poller import OddsApiPoller

    try:
        return _summary(OddsApiPoller().poll_scores_due())
    except Exception:
        logger.exception("odds api scores poll failed")
        return {}


@shared_task(ignore_result=True)
def match_edge_alerts_task(edge_ids: list[str]) -> int:
    """After an ingest tick: tell alert owners about the tick's edges that newly match
    their alerts (idempotent: a hit exists once per alert and edge)."""
    from edges.alerts import edge_alerts_match

    return edge_alerts_match(edge_ids=edge_ids).hits
