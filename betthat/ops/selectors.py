"""Reads for the staff dashboard and the metrics: the monitoring views, the Celery broker's
queues, django-celery-beat's last runs and the ledger's health.

Each reader returns plain data for one panel. `dashboard_snapshot` gathers them, and a panel
whose source is down (Redis, say) reports its error instead of failing the whole page.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Aggregate, Count, FloatField, Max, Q
from django.utils import timezone

from betthat.ops.models import (
    ActiveEdge,
    BetsByStatus,
    DailyBook,
    DashboardSummary,
    FeedHealth,
    OutboxBacklog,
    SettlementLag,
    SignupsDaily,
    UserBetStats,
    UsersByStatus,
)
from betthat.ops.redis_client import ops_redis

logger = logging.getLogger(__name__)

PERIODS = [("today", "Today"), ("7d", "7 days"), ("30d", "30 days")]
USER_STATUSES = [
    ("active", "Active"),
    ("pending_verification", "Pending verification"),
    ("suspended", "Suspended"),
    ("deleted", "Deleted"),
]
BET_STATUSES = [("pending", "Pending"), ("settled", "Settled"), ("void", "Void"), ("cancelled", "Cancelled")]
EDGE_KINDS = [("arbitrage", "Arbitrage"), ("positive_ev", "+EV"), ("middle", "Middle")]
LEDGER_CACHE_KEY = "ops:ledger-health"
KOMBU_PRIORITY_SEPARATOR = "\x06\x16"
KOMBU_PRIORITY_STEPS = (3, 6, 9)  # kombu's Redis transport keeps priorities 3, 6, 9 in lists of their own


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


@dataclass
class Share:
    """One slice of a 100% bar: its label, count and geometry (percent of the width)."""

    key: str
    label: str
    count: int
    x: float = 0.0
    width: float = 0.0


@dataclass
class ShareBar:
    total: int
    parts: list[Share] = field(default_factory=list)


def share_bar(rows: list[tuple[str, str, int]]) -> ShareBar:
    """Lay `(key, label, count)` rows out side by side on a 0-100 axis."""
    total = sum(count for _key, _label, count in rows)
    bar = ShareBar(total=total)
    x = 0.0
    for key, label, count in rows:
        width = round(100.0 * count / total, 2) if total else 0.0
        bar.parts.append(Share(key=key, label=label, count=count, x=round(x, 2), width=width))
        x += width
    return bar


# --- users ------------------------------------------------------------------------------------


def users_overview() -> dict[str, Any]:
    counts = {row.status: row.users for row in UsersByStatus.objects.all()}
    known = [key for key, _label in USER_STATUSES]
    rows = [(key, label, counts.get(key, 0)) for key, label in USER_STATUSES]
    rows += [
        (key, key.replace("_", " ").capitalize(), n) for key, n in sorted(counts.items()) if key not in known
    ]
    signups = [(row.day, row.signups) for row in SignupsDaily.objects.order_by("day")]
    return {
        "by_status": share_bar(rows),
        "signups": signups,
        "signups_today": signups[-1][1] if signups else 0,
        "signups_30d": sum(n for _day, n in signups),
    }


# --- money: handle, house profit, exposure ------------------------------------------------------


def book_overview() -> dict[str, Any]:
    """Per currency: the three periods' figures, and the daily series of the last 30 days."""
    by_currency: dict[str, dict[str, DashboardSummary]] = defaultdict(dict)
    for summary in DashboardSummary.objects.all():
        by_currency[summary.currency][summary.period] = summary
    currencies = sorted(by_currency, key=lambda c: (c != settings.DEFAULT_CURRENCY, c))
    if not currencies:
        currencies = [settings.DEFAULT_CURRENCY]
    # the last 30 UTC days, oldest first; the view has rows only for days with activity
    today = timezone.now().astimezone(UTC).date()
    days = [today - timedelta(days=offset) for offset in range(29, -1, -1)]
    daily: dict[tuple[str, date], DailyBook] = {
        (day.currency, day.day): day for day in DailyBook.objects.all()
    }
    tables = []
    for currency in currencies:
        periods = []
        for key, label in PERIODS:
            row = by_currency[currency].get(key)
            periods.append(
                {
                    "key": key,
                    "label": label,
                    "bets_placed": row.bets_placed if row else 0,
                    "handle_minor": row.handle_minor if row else 0,
                    "bets_settled": row.bets_settled if row else 0,
                    "house_profit_minor": row.house_profit_minor if row else 0,
                    "open_bets": row.open_bets if row else 0,
                    "open_exposure_minor": row.open_exposure_minor if row else 0,
                }
            )
        tables.append(
            {
                "currency": currency,
                "periods": periods,
                "daily_profit": [
                    (day, daily[(currency, day)].house_profit_minor if (currency, day) in daily else 0)
                    for day in days
                ],
                "daily_handle": [
                    (day, daily[(currency, day)].handle_minor if (currency, day) in daily else 0)
                    for day in days
                ],
            }
        )
    return {"currencies": tables}


def top_bettors(*, limit: int = 8) -> dict[str, list[UserBetStats]]:
    """The bettors the house owes most (net profit) and those with most at stake now."""
    rows = UserBetStats.objects.select_related("user")
    return {
        "winners": list(rows.filter(net_profit_minor__gt=0).order_by("-net_profit_minor", "user_id")[:limit]),
        "liabilities": list(
            rows.filter(open_liability_minor__gt=0).order_by("-open_liability_minor", "user_id")[:limit]
        ),
    }


# --- bets and settlement ----------------------------------------------------------------------


def bets_overview() -> dict[str, Any]:
    counts = {row.status: row.bets for row in BetsByStatus.objects.all()}
    rows = [(key, label, counts.get(key, 0)) for key, label in BET_STATUSES]
    # one pass over the view: settled in the last 24 h, and due but still pending
    settled, due = Q(is_pending=False), Q(is_pending=True)
    lag = SettlementLag.objects.aggregate(
        settled=Count("bet_id", filter=settled),
        p50=Percentile("lag_seconds", 0.5, filter=settled),
        p95=Percentile("lag_seconds", 0.95, filter=settled),
        worst=Max("lag_seconds", filter=settled),
        due=Count("bet_id", filter=due),
        oldest=Max("lag_seconds", filter=due),
    )
    return {
        "by_status": share_bar(rows),
        "settled_24h": lag["settled"],
        "lag_p50": lag["p50"],
        "lag_p95": lag["p95"],
        "lag_max": lag["worst"],
        "due_pending": lag["due"],
        "due_oldest_seconds": lag["oldest"],
        "is_lagging": bool(lag["oldest"] and lag["oldest"] > settings.OPS_SETTLEMENT_LAG_WARN_SECONDS),
    }


# --- edges ------------------------------------------------------------------------------------


def edges_overview() -> dict[str, Any]:
    """Active edges by kind (a bar) and by sport x kind (a table)."""
    grid: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    kinds: dict[str, int] = defaultdict(int)
    for row in ActiveEdge.objects.values("sport_key", "kind").annotate(n=Count("id")).order_by("sport_key"):
        grid[row["sport_key"]][row["kind"]] += row["n"]
        kinds[row["kind"]] += row["n"]
    kind_keys = [key for key, _label in EDGE_KINDS]
    sports = [
        {
            "sport_key": sport,
            "counts": [by_kind.get(kind, 0) for kind in kind_keys],
            "total": sum(by_kind.values()),
        }
        for sport, by_kind in sorted(grid.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    ]
    best = ActiveEdge.objects.order_by("-expected_value_per_dollar").first()
    return {
        "by_kind": share_bar([(key, label, kinds.get(key, 0)) for key, label in EDGE_KINDS]),
        "kinds": EDGE_KINDS,
        "sports": sports,
        "total": sum(kinds.values()),
        "best_ev": best.expected_value_per_dollar if best else None,
    }


def edge_counts() -> dict[str, int]:
    """Active edges per kind (for the metrics)."""
    return dict(ActiveEdge.objects.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))


# --- feeds ------------------------------------------------------------------------------------


def feed_health(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each active book's last quote and its age; a book past its freshness is `is_stale`."""
    now = now or timezone.now()
    books = []
    for row in FeedHealth.objects.filter(is_active=True).order_by("title"):
        age = (now - row.last_quote_at).total_seconds() if row.last_quote_at else None
        books.append(
            {
                "key": row.key,
                "title": row.title,
                "last_quote_at": row.last_quote_at,
                "age_seconds": age,
                "freshness_seconds": row.freshness_seconds,
                "quotes": row.quotes,
                "is_stale": age is None or age > row.freshness_seconds,
                # the bar: the age against twice the book's freshness (full width = very late)
                "bar_width": 100.0
                if age is None
                else round(min(100.0, 100.0 * max(age, 0.0) / (2 * row.freshness_seconds or 1)), 1),
            }
        )
    return books


# --- outbox -----------------------------------------------------------------------------------


def outbox_overview(*, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    rows = list(OutboxBacklog.objects.order_by("-pending", "event_type"))
    oldest = min((row.oldest_created_at for row in rows), default=None)
    age = (now - oldest).total_seconds() if oldest else None
    return {
        "pending": sum(row.pending for row in rows),
        "failing": sum(row.failing for row in rows),
        "oldest_created_at": oldest,
        "oldest_age_seconds": age,
        "by_type": rows,
        "is_lagging": bool(age is not None and age > settings.OPS_OUTBOX_LAG_WARN_SECONDS),
    }


# --- Celery -----------------------------------------------------------------------------------


def queue_depths() -> list[dict[str, Any]]:
    """Messages waiting in each broker queue (kombu's Redis lists, every priority), and the
    messages workers took but have not acknowledged yet."""
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    client = ops_redis(settings.CELERY_BROKER_URL)
    names = list(settings.CELERY_TASK_QUEUES_NAMES)
    with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.llen(f"{prefix}{name}")
            for step in KOMBU_PRIORITY_STEPS:
                pipe.llen(f"{prefix}{name}{KOMBU_PRIORITY_SEPARATOR}{step}")
        pipe.hlen(f"{prefix}unacked")
        sizes = pipe.execute()
    per = 1 + len(KOMBU_PRIORITY_STEPS)
    queues = [{"name": name, "depth": sum(sizes[i * per : (i + 1) * per])} for i, name in enumerate(names)]
    queues.append({"name": "unacknowledged", "depth": sizes[-1]})
    return queues


def periodic_tasks(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """django-celery-beat's schedule: each task's last run, and whether it is overdue (an
    interval task not sent for three intervals and a minute)."""
    from django_celery_beat.models import PeriodicTask

    now = now or timezone.now()
    tasks = []
    for task in PeriodicTask.objects.select_related("interval", "crontab").order_by("name"):
        if task.name.startswith("celery."):
            continue
        interval = task.interval.schedule.run_every if task.interval else None
        overdue = bool(
            task.enabled
            and interval is not None
            and (task.last_run_at is None or now - task.last_run_at > 3 * interval + timedelta(minutes=1))
        )
        tasks.append(
            {
                "name": task.name,
                "task": task.task,
                "schedule": str(task.interval or task.crontab or task.solar or task.clocked or "—"),
                "enabled": task.enabled,
                "last_run_at": task.last_run_at,
                "age_seconds": (now - task.last_run_at).total_seconds() if task.last_run_at else None,
                "runs": task.total_run_count,
                "is_overdue": overdue,
            }
        )
    return tasks


# --- ledger -----------------------------------------------------------------------------------


def ledger_health(*, fresh: bool = False) -> dict[str, Any]:
    """The ledger's invariants (wallet.health), cached for OPS_LEDGER_CHECK_SECONDS: the check
    reads the whole ledger, too much for every refresh of every open dashboard."""
    if not fresh:
        try:
            cached = cache.get(LEDGER_CACHE_KEY)
        except Exception:  # Redis down: check without the cache
            logger.warning("ledger health cache unavailable", exc_info=True)
            cached = None
        if cached is not None:
            return cached
    from wallet.health import ledger_report

    report = ledger_report()
    result = {
        "ok": report.ok,
        "checked_at": timezone.now(),
        "accounts": report.accounts,
        "transactions": report.transactions,
        "entries": report.entries,
        "checks": [{"name": r.name, "ok": r.ok, "problems": r.problems[:5]} for r in report.results],
    }
    try:
        cache.set(LEDGER_CACHE_KEY, result, settings.OPS_LEDGER_CHECK_SECONDS)
    except Exception:
        logger.warning("ledger health cache unavailable", exc_info=True)
    return result


# --- everything -------------------------------------------------------------------------------


def _panel(reader: Callable[[], Any]) -> dict[str, Any]:
    try:
        return {"ok": True, "data": reader()}
    except Exception as error:  # one source down must not blank the whole dashboard
        logger.warning("dashboard panel %s failed", getattr(reader, "__name__", reader), exc_info=True)
        return {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}


def _feeds_panel(*, now: datetime) -> dict[str, Any]:
    books = feed_health(now=now)
    stale = [book["title"] for book in books if book["is_stale"]]
    return {"books": books, "stale": stale, "live": len(books) - len(stale)}


SNAPSHOT_CACHE_KEY = "ops:dashboard-snapshot"


def dashboard_snapshot_cached() -> dict[str, Any]:
    """The snapshot, shared by every open dashboard for OPS_DASHBOARD_CACHE_SECONDS: with a
    few staff watching, the views' scans of the bets run once per interval, not per viewer.
    The page shows the snapshot's own time."""
    seconds = settings.OPS_DASHBOARD_CACHE_SECONDS
    if seconds <= 0:
        return dashboard_snapshot()
    try:
        cached = cache.get(SNAPSHOT_CACHE_KEY)
    except Exception:  # Redis down: compute it (the queues panel will say why)
        logger.warning("dashboard cache unavailable", exc_info=True)
        return dashboard_snapshot()
    if cached is not None:
        return cached
    snapshot = dashboard_snapshot()
    try:
        cache.set(SNAPSHOT_CACHE_KEY, snapshot, seconds)
    except Exception:
        logger.warning("dashboard cache unavailable", exc_info=True)
    return snapshot


def dashboard_snapshot(*, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    return {
        "now": now,
        "users": _panel(users_overview),
        "book": _panel(book_overview),
        "top_bettors": _panel(top_bettors),
        "bets": _panel(bets_overview),
        "edges": _panel(edges_overview),
        "feeds": _panel(lambda: _feeds_panel(now=now)),
        "outbox": _panel(lambda: outbox_overview(now=now)),
        "queues": _panel(queue_depths),
        "periodic": _panel(lambda: periodic_tasks(now=now)),
        "ledger": _panel(ledger_health),
    }


__all__ = [
    "bets_overview",
    "book_overview",
    "dashboard_snapshot",
    "dashboard_snapshot_cached",
    "edge_counts",
    "edges_overview",
    "feed_health",
    "ledger_health",
    "outbox_overview",
    "periodic_tasks",
    "queue_depths",
    "top_bettors",
    "users_overview",
]
