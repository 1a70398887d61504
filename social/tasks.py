"""Celery tasks: thin, idempotent, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from social import services


@shared_task(ignore_result=True)
def release_public_bets_task() -> int:
    """Send every public bet whose delay has passed to its followers' open feeds (run by
    beat every few seconds and scheduled at `visible_from` for short delays)."""
    return services.public_bets_release()


@shared_task(ignore_result=True)
def recompute_leaderboards_task() -> dict:
    return services.leaderboards_recompute().rows
