"""The Odds API v4 on schedule: odds and scores of the configured sports, within the quota,
never in the way of the rest of the system.

Beat runs `poll_odds_api_task` and `poll_scores_task` every few seconds; each run polls
only the sports whose time has come. Where each feed stands lives in `FeedState` rows, so
every worker shares one schedule, one backoff and one view of the quota:

* A sport is claimed by a conditional update of its row (`next_poll_at` in the past), so
  two workers never poll it at once, and the HTTP call runs outside any transaction.
* Every answer's `x-requests-remaining` / `x-requests-used` is logged and kept on the
  `quota` row. Below `ODDS_API_QUOTA_LOW` the interval stretches as the quota shrinks; at
  `ODDS_API_QUOTA_RESERVE` odds polling stops and the free `/v4/sports` call checks once an
  hour (`ODDS_API_QUOTA_PROBE_SECONDS`) whether the quota was reset.
* A network error, a non-200 answer (429 included) or a body that is not JSON backs off
  exponentially (`ODDS_API_BACKOFF_SECONDS` doubling, at most
  `ODDS_API_BACKOFF_MAX_SECONDS`; a 429's `Retry-After` is honoured within that bound).
* Malformed parts of a good answer are counted and skipped (the report says which).
* Odds go through `ingest_v4` (the quote path every feed uses). Completed games of the
  scores answer go through `event_record_result`, which publishes `event.finished`; the
  betting app's outbox handler grades and settles from it, exactly as after
  `ingest_results` (edges never imports betting).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from betthat.core.errors import ApplicationError
from edges import services
from edges.feeds.odds_api import ScoreResult, ingest_v4, parse_scores
from edges.ingest import IngestReport
from edges.models import SIMULATED_PREFIX, Event, FeedState

logger = logging.getLogger(__name__)

QUOTA_KEY = "quota"
# How long a claimed sport stays claimed if its worker dies mid-poll.
CLAIM_LEASE = timedelta(minutes=2)


class Session(Protocol):
    def get(self, url: str, *, params: dict[str, Any], timeout: float) -> requests.Response: ...


@dataclass
class PollResult:
    feed: str  # "odds" or "scores"
    sport: str
    polled: bool = False
    status: int | None = None
    skipped_reason: str = ""
    error: str = ""
    report: IngestReport = field(default_factory=IngestReport)
    results_recorded: int = 0
    next_poll_at: datetime | None = None


def _header_int(headers: Any, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        logger.warning("odds api sent a bad %s header: %r", name, value)
        return None


class OddsApiPoller:
    def __init__(
        self,
        *,
        session: Session | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        sports: list[str] | None = None,
        regions: str | None = None,
        markets: str | None = None,
    ) -> None:
        self.session: Session = session or requests.Session()
        self.api_key = settings.ODDS_API_KEY if api_key is None else api_key
        self.base_url = (base_url or settings.ODDS_API_BASE_URL).rstrip("/")
        self.sports = list(sports or settings.ODDS_API_SPORTS)
        self.regions = regions or settings.ODDS_API_REGIONS
        self.markets = markets or settings.ODDS_API_MARKETS

    # --- the two feeds ---

    def poll_odds_due(self, *, now: datetime | None = None) -> list[PollResult]:
        now = now or timezone.now()
        return [self.poll_odds(sport, now=now) for sport in self.sports]

    def poll_scores_due(self, *, now: datetime | None = None) -> list[PollResult]:
        now = now or timezone.now()
        return [self.poll_scores(sport, now=now) for sport in self.sports]

    def poll_odds(self, sport: str, *, now: datetime) -> PollResult:
        result = PollResult("odds", sport)
        if not self.api_key:
            result.skipped_reason = "no ODDS_API_KEY set"
            return result
        quota = _state(QUOTA_KEY)
        if (
            quota.requests_remaining is not None
            and quota.requests_remaining <= settings.ODDS_API_QUOTA_RESERVE
        ):
            self._probe_quota(quota, now=now)
            quota.refresh_from_db()
            if (
                quota.requests_remaining is None
                or quota.requests_remaining <= settings.ODDS_API_QUOTA_RESERVE
            ):
                result.skipped_reason = "quota reserve reached"
                return result
        params = {
            "regions": self.regions,
            "markets": self.markets,
            "oddsFormat": "decimal",
            "dateFormat": "iso",
        }

        def ingest(payload: Any) -> None:
            ingest_v4(payload, odds_format="decimal", now=now, report=result.report)

        return self._poll(result, f"/v4/sports/{sport}/odds", params, ingest, self._odds_interval, now=now)

    def poll_scores(self, sport: str, *, now: datetime) -> PollResult:
        result = PollResult("scores", sport)
        if not self.api_key:
            result.skipped_reason = "no ODDS_API_KEY set"
            return result
        awaiting = list(
            Event.objects.filter(
                Q(status=Event.Status.LIVE) | Q(status=Event.Status.SCHEDULED, commence_time__lte=now),
                sport__key=sport,
            )
            .exclude(provider_id__startswith=SIMULATED_PREFIX)
            .values_list("commence_time", flat=True)
        )
        if not awaiting:
            result.skipped_reason = "no game awaiting a result"
            return result
        # the answer covers games completed within daysFrom days (1 to 3)
        days = min(3, max(1, math.ceil((now - min(awaiting)).total_seconds() / 86_400)))
        params = {"daysFrom": str(days), "dateFormat": "iso"}

        def record(payload: Any) -> None:
            result.results_recorded = _record_results(parse_scores(payload, result.report), result.report)

        return self._poll(
            result,
            f"/v4/sports/{sport}/scores",
            params,
            record,
            lambda: float(settings.ODDS_API_SCORES_POLL_SECONDS),
            now=now,
        )

    def _poll(
        self,
        result: PollResult,
        path: str,
        params: dict[str, str],
        handle: Callable[[Any], None],
        interval: Callable[[], float],
        *,
        now: datetime,
    ) -> PollResult:
        """Claim the feed if due, fetch, hand the answer on; the outcome sets the next poll.
        Nothing raises out of here: a failure backs off and is recorded."""
        state = _claim(f"{result.feed}:{result.sport}", now)
        if state is None:
            result.skipped_reason = "not due"
            return result
        payload = self._fetch(path, params, state, result, now=now)
        if payload is None:
            return result
        try:
            handle(payload)
        except Exception as error:  # the database is down, say: back off, keep running
            logger.exception("odds api: handling the %s answer for %s failed", result.feed, result.sport)
            self._failed(state, result, f"{result.feed} not stored: {error}", now=now)
            return result
        self._succeeded(state, result, interval(), now=now)
        return result

    # --- HTTP, quota, pacing ---

    def _fetch(
        self, path: str, params: dict[str, str], state: FeedState, result: PollResult, *, now: datetime
    ) -> Any | None:
        """The answer's JSON, or None after recording the failure and its backoff."""
        result.polled = True
        try:
            response = self.session.get(
                f"{self.base_url}{path}",
                params={"apiKey": self.api_key, **params},
                timeout=settings.ODDS_API_TIMEOUT_SECONDS,
            )
        except requests.RequestException as error:
            self._failed(state, result, f"network error: {type(error).__name__}", now=now)
            return None
        result.status = response.status_code
        self._read_quota(response.headers)
        if response.status_code != 200:
            retry_after = _header_int(response.headers, "retry-after")
            reason = f"HTTP {response.status_code}"
            self._failed(state, result, reason, now=now, at_least=retry_after)
            return None
        try:
            return response.json()
        except ValueError:
            self._failed(state, result, "response is not JSON", now=now)
            return None

    def _read_quota(self, headers: Any) -> None:
        remaining = _header_int(headers, "x-requests-remaining")
        used = _header_int(headers, "x-requests-used")
        if remaining is None and used is None:
            return
        logger.info(
            "odds api quota: %s requests remaining, %s used (last call cost %s)",
            remaining,
            used,
            headers.get("x-requests-last", "?"),
        )
        _state(QUOTA_KEY)
        FeedState.objects.filter(key=QUOTA_KEY).update(
            requests_remaining=remaining, requests_used=used, updated_at=timezone.now()
        )

    def _probe_quota(self, quota: FeedState, *, now: datetime) -> None:
        """At the reserve, ask the free `/v4/sports` once per probe interval whether the
        quota came back (it resets with the plan's period)."""
        if quota.last_polled_at and now - quota.last_polled_at < timedelta(
            seconds=settings.ODDS_API_QUOTA_PROBE_SECONDS
        ):
            return
        FeedState.objects.filter(pk=quota.pk).update(last_polled_at=now)
        try:
            response = self.session.get(
                f"{self.base_url}/v4/sports",
                params={"apiKey": self.api_key},
                timeout=settings.ODDS_API_TIMEOUT_SECONDS,
            )
        except requests.RequestException:
            logger.warning("odds api: quota probe failed", exc_info=True)
            return
        self._read_quota(response.headers)

    @staticmethod
    def _odds_interval() -> float:
        """The base interval, stretched as the quota runs low: at half the low-water mark
        twice as long, and so on, up to the maximum."""
        base = float(settings.ODDS_API_POLL_SECONDS)
        remaining = _state(QUOTA_KEY).requests_remaining
        if remaining is None or remaining >= settings.ODDS_API_QUOTA_LOW:
            return base
        spare = max(1, remaining - settings.ODDS_API_QUOTA_RESERVE)
        stretch = settings.ODDS_API_QUOTA_LOW / spare
        return min(float(settings.ODDS_API_MAX_INTERVAL_SECONDS), base * stretch)

    @staticmethod
    def _succeeded(state: FeedState, result: PollResult, interval: float, *, now: datetime) -> None:
        result.next_poll_at = now + timedelta(seconds=interval)
        if result.report.skipped:
            logger.warning(
                "odds api %s %s: %s malformed parts skipped: %s",
                result.feed,
                result.sport,
                result.report.skipped,
                result.report.reasons(),
            )
        FeedState.objects.filter(pk=state.pk).update(
            next_poll_at=result.next_poll_at,
            last_success_at=now,
            consecutive_failures=0,
            last_status=result.status,
            last_error="",
            polls=F("polls") + 1,
            parts_skipped=F("parts_skipped") + result.report.skipped,
        )

    @staticmethod
    def _failed(
        state: FeedState, result: PollResult, reason: str, *, now: datetime, at_least: int | None = None
    ) -> None:
        failures = state.consecutive_failures + 1
        delay = min(
            settings.ODDS_API_BACKOFF_MAX_SECONDS,
            max(settings.ODDS_API_BACKOFF_SECONDS * 2 ** min(failures - 1, 30), at_least or 0),
        )
        result.error = reason
        result.next_poll_at = now + timedelta(seconds=delay)
        logger.warning(
            "odds api %s %s failed (%s, %s in a row); next try in %s s",
            result.feed,
            result.sport,
            reason,
            failures,
            delay,
        )
        FeedState.objects.filter(pk=state.pk).update(
            next_poll_at=result.next_poll_at,
            consecutive_failures=failures,
            last_status=result.status,
            last_error=reason[:500],
            polls=F("polls") + 1,
        )


def _state(key: str) -> FeedState:
    state, _created = FeedState.objects.get_or_create(key=key)
    return state


def _claim(key: str, now: datetime) -> FeedState | None:
    """The feed's row if its time has come, leased to this worker; None if not due or
    another worker holds it."""
    state = _state(key)
    claimed = (
        FeedState.objects.filter(pk=state.pk)
        .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))
        .update(next_poll_at=now + CLAIM_LEASE, last_polled_at=now)
    )
    if not claimed:
        return None
    state.refresh_from_db()
    return state


def _record_results(results: list[ScoreResult], report: IngestReport) -> int:
    """Each completed real game's score through `event_record_result` (idempotent: a game
    already recorded with the same score changes nothing)."""
    events = {
        provider_id: (pk, status)
        for pk, provider_id, status in Event.objects.filter(
            provider_id__in=[r.provider_id for r in results]
        ).values_list("id", "provider_id", "status")
    }
    recorded = 0
    for result in results:
        known = events.get(result.provider_id)
        if known is None:
            continue  # a game we never listed (no odds were ingested for it)
        if known[1] in (Event.Status.FINAL, Event.Status.CANCELLED):
            continue
        try:
            services.event_record_result(
                event_id=known[0], home_score=result.home_score, away_score=result.away_score, status="final"
            )
        except ApplicationError as error:
            report.problem(f"game {result.provider_id}", error.message)
            continue
        recorded += 1
    return recorded
