"""Leaderboards: one set-based statement per window and metric, run by a beat task.

Each statement aggregates the public bets settled in the window (settled_at in
(now - window, now], visible by now) of listed bettors (public, unhidden profiles of users
neither soft-deleted nor suspended; the read filters the same way, `listed_q`), keeps the
bettors with at least SOCIAL_LEADERBOARD_MIN_BETS bets in the metric's sample, ranks them
with RANK()
(ties share a rank, the next rank skips) on the value rounded to 6 places, and replaces
that board's rows, all inside one transaction per board. Definitions match the public
record's (social/statistics.py):

- roi: flat-stake ROI, the average profit per unit staked (`profit_units`, from each bet's
  price and result) over settled bets that are not void; n = those bets. Never
  stake-weighted: successive stake-weighted values would give away each bet's stake.
- win_pct: won / (won + lost), won = win + half win, lost = loss + half loss; n = won + lost.
- clv: the average CLV (taken / closing - 1) over settled bets whose close is known; n = those.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from betthat.users.models import User
from social.models import SUSPENDED, LeaderboardMetric, LeaderboardRun, LeaderboardWindow

WINDOWS = {LeaderboardWindow.DAYS_7: timedelta(days=7), LeaderboardWindow.DAYS_30: timedelta(days=30)}

_WON = "pb.result IN ('win', 'half_win')"
_DECIDED = "pb.result IN ('win', 'half_win', 'loss', 'half_loss')"
METRIC_SQL = {
    LeaderboardMetric.ROI: (
        "AVG(pb.profit_units) FILTER (WHERE pb.result <> 'void')",
        "COUNT(*) FILTER (WHERE pb.result <> 'void')",
    ),
    LeaderboardMetric.WIN_PCT: (
        f"COUNT(*) FILTER (WHERE {_WON})::numeric / NULLIF(COUNT(*) FILTER (WHERE {_DECIDED}), 0)",
        f"COUNT(*) FILTER (WHERE {_DECIDED})",
    ),
    LeaderboardMetric.CLV: ("AVG(pb.clv_percent)", "COUNT(pb.clv_percent)"),
}

# Aggregate first, then keep the public profiles: the join touches one row per bettor, not
# one per bet.
_BOARD_SQL = """
WITH totals AS (
    SELECT pb.user_id, ROUND({value}, 6) AS value, {count} AS n_bets
      FROM social_publicbet pb
     WHERE pb.status = 'settled'
       AND pb.settled_at > %(since)s AND pb.settled_at <= %(now)s
       AND pb.visible_from <= %(now)s
     GROUP BY pb.user_id
)
INSERT INTO social_leaderboardrank ("window", metric, rank, user_id, value, n_bets, updated_at)
SELECT %(window)s, %(metric)s, RANK() OVER (ORDER BY t.value DESC), t.user_id, t.value, t.n_bets, %(now)s
  FROM totals t
  JOIN social_profile p ON p.user_id = t.user_id AND p.is_public AND p.hidden_at IS NULL
  JOIN {user_table} u ON u.id = t.user_id AND u.deleted_at IS NULL AND u.is_active AND u.status <> %(suspended)s
 WHERE t.n_bets >= %(min_bets)s AND t.value IS NOT NULL
"""


def board_sql(metric: str) -> str:
    value, count = METRIC_SQL[LeaderboardMetric(metric)]
    return _BOARD_SQL.format(value=value, count=count, user_table=User._meta.db_table)


def leaderboard_recompute_board(*, window: str, metric: str, now: datetime, min_bets: int) -> int:
    """Replace one board; returns its number of ranked rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            'DELETE FROM social_leaderboardrank WHERE "window" = %s AND metric = %s', [window, metric]
        )
        cursor.execute(
            board_sql(metric),
            {
                "window": window,
                "metric": metric,
                "since": now - WINDOWS[LeaderboardWindow(window)],
                "now": now,
                "min_bets": min_bets,
                "suspended": SUSPENDED,
            },
        )
        return cursor.rowcount


def leaderboards_recompute(*, now: datetime | None = None, min_bets: int | None = None) -> LeaderboardRun:
    """Recompute every board (2 windows x 3 metrics) and record the run."""
    now = now or timezone.now()
    min_bets = settings.SOCIAL_LEADERBOARD_MIN_BETS if min_bets is None else min_bets
    started = time.perf_counter()
    rows = {}
    for window in LeaderboardWindow.values:
        for metric in LeaderboardMetric.values:
            rows[f"{window}/{metric}"] = leaderboard_recompute_board(
                window=window, metric=metric, now=now, min_bets=min_bets
            )
    return LeaderboardRun.objects.create(
        started_at=now,
        finished_at=timezone.now(),
        duration_ms=int((time.perf_counter() - started) * 1000),
        rows=rows,
        min_bets=min_bets,
    )
