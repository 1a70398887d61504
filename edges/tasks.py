"""Celery tasks of the edges app (queue "odds"): thin, idempotent, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from edges import services


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


@shared_task(ignore_result=True)
def poll_odds_api_task() -> int:
    """Poll The Odds API for every configured sport (a no-op without ODDS_API_KEY)."""
    from edges.feeds.odds_api import OddsApiPoller

    results = OddsApiPoller().poll_all()
    return sum(r.report.quotes_accepted for r in results if r.report is not None)
