"""The edges tasks are thin: each calls one service and returns what it did."""

from __future__ import annotations

import pytest

from edges import tasks
from edges.feeds.odds_api import ingest_v4
from edges.models import Edge, Event, FeedState
from tests.edges.factories import FILE_TIME, books, load

pytestmark = pytest.mark.django_db

NOTHING = {"polled": 0, "failed": 0, "quotes_accepted": 0, "parts_skipped": 0, "results_recorded": 0}


def test_poll_tasks_do_nothing_without_a_key(settings):
    settings.ODDS_API_KEY = ""
    assert tasks.poll_odds_api_task() == NOTHING
    assert tasks.poll_scores_task() == NOTHING
    assert not FeedState.objects.exists()


def test_expire_task_starts_due_events_and_expires_their_edges(settings, monkeypatch):
    books()
    ingest_v4(load("nfl_decimal.json"), now=FILE_TIME)
    active = Edge.objects.filter(status="active").count()
    assert active == 5
    event = Event.objects.get(provider_id="evt-kc-lac")
    monkeypatch.setattr("django.utils.timezone.now", lambda: event.commence_time)
    assert tasks.expire_edges_task() == {"started": 1, "expired": 0, "stale": 0}
    assert Edge.objects.filter(status="expired").count() == active
    assert Event.objects.get(pk=event.pk).status == "live"
