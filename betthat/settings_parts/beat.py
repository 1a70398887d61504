"""The periodic tasks (Celery beat), declared in one place; django-celery-beat copies them
into the database, where staff can edit them in the admin. `betthat.settings` builds
CELERY_BEAT_SCHEDULE with the intervals it reads from the environment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery.schedules import crontab


def beat_schedule(
    *, social_leaderboard_seconds: int, social_release_seconds: int, placing_sweep_seconds: int
) -> dict[str, dict[str, Any]]:
    return {
        "wallet-prune-idempotency-keys": {
            "task": "wallet.tasks.prune_idempotency_keys_task",
            "schedule": crontab(minute=17),
        },
        "wallet-resubmit-withdrawals": {
            "task": "wallet.tasks.resubmit_withdrawals_task",
            "schedule": timedelta(seconds=60),
        },
        "users-send-due-notification-emails": {
            "task": "betthat.users.tasks.send_due_notification_emails_task",
            "schedule": timedelta(seconds=60),
        },
        "core-relay-outbox": {
            "task": "betthat.core.tasks.relay_outbox_task",
            "schedule": timedelta(seconds=1),
        },
        "edges-expire": {
            "task": "edges.tasks.expire_edges_task",
            "schedule": timedelta(seconds=5),
        },
        "edges-cleanup-daily": {
            "task": "edges.tasks.cleanup_expired_edges_task",
            "schedule": crontab(hour=4, minute=0),
        },
        "edges-audit-odds-hourly": {
            "task": "edges.tasks.audit_odds_snapshot_task",
            "schedule": crontab(minute=0),
        },
        "betting-settle-due": {
            "task": "betting.tasks.settle_due_bets_task",
            "schedule": timedelta(seconds=30),
        },
        # Bets left `placing` (a lost fill): filled or released from the venue's answer.
        "betting-resolve-placing": {
            "task": "betting.tasks.resolve_placing_bets_task",
            "schedule": timedelta(seconds=placing_sweep_seconds),
        },
        "betting-capture-closing-lines": {
            "task": "betting.tasks.capture_closing_lines_task",
            "schedule": timedelta(seconds=15),
        },
        "chat-maintain-partitions": {
            "task": "chat.tasks.maintain_partitions_task",
            "schedule": crontab(hour=3, minute=30),
        },
        "chat-close-finished-rooms": {
            "task": "chat.tasks.close_finished_rooms_task",
            "schedule": timedelta(minutes=5),
        },
        "chat-demo-chatter": {
            "task": "chat.tasks.demo_chatter_task",
            "schedule": timedelta(seconds=40),
        },
        "social-recompute-leaderboards": {
            "task": "social.tasks.recompute_leaderboards_task",
            "schedule": timedelta(seconds=social_leaderboard_seconds),
        },
        # The sweep that pushes bets whose delay has passed to followers' open feeds.
        "social-release-public-bets": {
            "task": "social.tasks.release_public_bets_task",
            "schedule": timedelta(seconds=social_release_seconds),
        },
        # The odds poller ticks often; each tick polls only the sports whose time has come
        # (no-op without ODDS_API_KEY), so the pace (ODDS_API_*) is kept in one place and
        # shared by every worker.
        "edges-poll-odds-api": {
            "task": "edges.tasks.poll_odds_api_task",
            "schedule": timedelta(seconds=15),
        },
        "edges-poll-scores": {
            "task": "edges.tasks.poll_scores_task",
            "schedule": timedelta(seconds=30),
        },
    }
