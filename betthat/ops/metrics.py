"""Prometheus metrics (prometheus-client).

Two kinds:
- measured in this process: request latency (RequestMetricsMiddleware) and open websocket
  connections (betthat.ops.asgi). With PROMETHEUS_MULTIPROC_DIR set (several uvicorn or
  gunicorn processes), prometheus-client aggregates them across processes.
- read at scrape time from the database and Redis (`StateCollector`): bets placed and
  settled, quote updates ingested, active edges, outbox backlog and lag, each book's feed
  age, Celery queue depths, users by status and the ledger's health. They are the system's
  state, the same whichever process answers, and need no hook in the other apps.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.conf import settings
from django.db import connection
from django.utils import timezone
from prometheus_client import CollectorRegistry, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

disable_created_metrics()  # the *_created series only double the exposition here

KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

REQUEST_LATENCY = Histogram(
    "betthat_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, URL pattern and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
WEBSOCKET_CONNECTIONS = Gauge(
    "betthat_websocket_connections",
    "Websocket connections open now, by path.",
    ["path"],
    multiprocess_mode="livesum",
)


def observe_request(*, method: str, route: str, status: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(
        method=method if method in KNOWN_METHODS else "OTHER", route=route[:120], status=str(status)
    ).observe(seconds)


# Quote upserts as PostgreSQL counts them (inserts + updates of the latest-quote table):
# cumulative, free to read, and independent of which process ingested them.
_QUOTE_UPDATES_SQL = """
SELECT COALESCE(n_tup_ins + n_tup_upd, 0) FROM pg_stat_user_tables WHERE relname = 'edges_oddsquote'
"""


class StateCollector:
    """Reads the system's state when Prometheus scrapes. A source that is down is reported
    as `betthat_scrape_source_up{source=...} 0` instead of failing the scrape."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "betthat_scrape_source_up", "1 when the source could be read at this scrape.", labels=["source"]
        )
        for source, reader in (
            ("database", self._database),
            ("redis", self._redis),
            ("ledger", self._ledger),
        ):
            try:
                yield from list(reader())
                up.add_metric([source], 1)
            except Exception:
                logger.warning("metrics source %s unavailable", source, exc_info=True)
                up.add_metric([source], 0)
        yield up

    def _database(self) -> Iterator[Metric]:
        from betthat.ops import selectors
        from betthat.ops.models import BetsByStatus, UsersByStatus

        now = timezone.now()
        by_status = {row.status: row.bets for row in BetsByStatus.objects.all()}
        placed = CounterMetricFamily("betthat_bets_placed", "Bets placed (every bet ever accepted).")
        placed.add_metric([], sum(by_status.values()))
        yield placed
        settled = CounterMetricFamily("betthat_bets_settled", "Bets settled or voided by settlement.")
        settled.add_metric([], by_status.get("settled", 0) + by_status.get("void", 0))
        yield settled
        bets = GaugeMetricFamily("betthat_bets", "Bets by status.", labels=["status"])
        for status, count in sorted(by_status.items()):
            bets.add_metric([status], count)
        yield bets

        with connection.cursor() as cursor:
            cursor.execute(_QUOTE_UPDATES_SQL)
            row = cursor.fetchone()
        quotes = CounterMetricFamily(
            "betthat_quote_updates",
            "Quote updates ingested (upserts of the latest quote per book and outcome).",
        )
        quotes.add_metric([], row[0] if row else 0)
        yield quotes

        edges = GaugeMetricFamily("betthat_edges_active", "Active edges by kind.", labels=["kind"])
        counts = selectors.edge_counts()
        for kind, _label in selectors.EDGE_KINDS:
            edges.add_metric([kind], counts.get(kind, 0))
        yield edges

        outbox = selectors.outbox_overview(now=now)
        backlog = GaugeMetricFamily("betthat_outbox_backlog", "Outbox events not yet relayed.")
        backlog.add_metric([], outbox["pending"])
        yield backlog
        lag = GaugeMetricFamily(
            "betthat_outbox_lag_seconds", "Age of the oldest outbox event not yet relayed (0 when none)."
        )
        lag.add_metric([], outbox["oldest_age_seconds"] or 0.0)
        yield lag

        age = GaugeMetricFamily(
            "betthat_feed_age_seconds", "Seconds since each active book's last quote.", labels=["sportsbook"]
        )
        stale = GaugeMetricFamily(
            "betthat_feed_stale",
            "1 when a book's last quote is older than its freshness.",
            labels=["sportsbook"],
        )
        for book in selectors.feed_health(now=now):
            if book["age_seconds"] is not None:
                age.add_metric([book["key"]], book["age_seconds"])
            stale.add_metric([book["key"]], 1 if book["is_stale"] else 0)
        yield age
        yield stale

        users = GaugeMetricFamily("betthat_users", "Accounts by status.", labels=["status"])
        for row in UsersByStatus.objects.order_by("status"):
            users.add_metric([row.status], row.users)
        yield users

    def _redis(self) -> Iterator[Metric]:
        from betthat.ops import selectors

        depth = GaugeMetricFamily(
            "betthat_celery_queue_depth", "Messages waiting in each Celery broker queue.", labels=["queue"]
        )
        for queue in selectors.queue_depths():
            depth.add_metric([queue["name"]], queue["depth"])
        yield depth

    def _ledger(self) -> Iterator[Metric]:
        from betthat.ops import selectors

        health = selectors.ledger_health()
        ok = GaugeMetricFamily(
            "betthat_ledger_ok", "1 when every ledger invariant holds (checked at most every minute)."
        )
        ok.add_metric([], 1 if health["ok"] else 0)
        yield ok


STATE_REGISTRY = CollectorRegistry(auto_describe=False)
STATE_REGISTRY.register(StateCollector())


def exposition() -> bytes:
    """The text exposition of every metric: this process's (or all processes', in
    multiprocess mode) and the state read now."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
        measured = generate_latest(processes)
    else:
        from prometheus_client import REGISTRY

        measured = generate_latest(REGISTRY)
    return measured + generate_latest(STATE_REGISTRY)
