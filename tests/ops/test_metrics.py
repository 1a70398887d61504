"""/metrics: the Prometheus exposition, its figures, and who may scrape it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tests.betting.factories import make_edge, make_game
from tests.factories import UserFactory
from tests.ops.factories import bet, free_port


def scrape(client: Client | None = None, **headers) -> dict[tuple[str, tuple], float]:
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.mark.django_db
def test_state_read_at_scrape_time():
    user = UserFactory()
    now = timezone.now()
    bet(user, stake=100, placed_at=now)
    bet(user, stake=100, placed_at=now, status="settled", result="win", returned=250, settled_at=now)
    bet(user, stake=100, placed_at=now, status="void", result="void", returned=100, settled_at=now)
    bet(user, stake=100, placed_at=now, status="cancelled")
    game = make_game()
    make_edge(game, "home_ml", "draftkings")

    samples = scrape()
    assert samples[("betthat_bets_placed_total", ())] == 4
    assert samples[("betthat_bets_settled_total", ())] == 2
    assert samples[("betthat_bets", (("status", "pending"),))] == 1
    assert samples[("betthat_edges_active", (("kind", "positive_ev"),))] == 1
    assert samples[("betthat_edges_active", (("kind", "arbitrage"),))] == 0
    assert samples[("betthat_outbox_backlog", ())] >= 0
    assert samples[("betthat_feed_stale", (("sportsbook", "pinnacle"),))] == 0
    assert 0 <= samples[("betthat_feed_age_seconds", (("sportsbook", "pinnacle"),))] < 60
    assert samples[("betthat_users", (("status", "active"),))] == 1
    assert samples[("betthat_ledger_ok", ())] == 1
    assert ("betthat_quote_updates_total", ()) in samples
    assert {k[1] for k in samples if k[0] == "betthat_celery_queue_depth"} >= {
        (("queue", "default"),),
        (("queue", "odds"),),
        (("queue", "settlement"),),
    }
    assert samples[("betthat_scrape_source_up", (("source", "database"),))] == 1


@pytest.mark.django_db
def test_request_latency_is_recorded_by_route():
    Client().get("/healthz")
    samples = scrape()
    key = (
        "betthat_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "healthz"), ("status", "200")),
    )
    assert samples[key] >= 1


@pytest.mark.django_db
def test_a_source_that_is_down_is_reported_not_fatal(settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    samples = scrape()
    assert samples[("betthat_scrape_source_up", (("source", "redis"),))] == 0
    assert samples[("betthat_scrape_source_up", (("source", "database"),))] == 1


@pytest.mark.django_db
def test_metrics_are_closed_to_other_addresses(settings):
    settings.DEBUG = False
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    settings.METRICS_BEARER_TOKEN = "s3cret-token"
    outsider = {"REMOTE_ADDR": "10.1.2.3"}
    response = Client().get("/metrics", **outsider)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    # a forwarded header is the client's to write: it opens nothing
    assert Client().get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1", **outsider).status_code == 403
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **outsider).status_code == 403
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token", **outsider).status_code == 200
    assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200


@pytest.mark.django_db
def test_metrics_are_open_with_debug(settings):
    settings.DEBUG = True
    settings.METRICS_ALLOWED_IPS = []
    assert Client().get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200


@pytest.mark.django_db(transaction=True)
async def test_websocket_connections_are_counted(ws_headers_for):
    from betthat.asgi import application

    def gauge() -> float:
        response = Client().get("/metrics")
        match = re.search(
            r'^betthat_websocket_connections\{path="/ws/odds/"\} (\S+)$', response.content.decode(), re.M
        )
        return float(match.group(1)) if match else 0.0

    before = await sync_to_async(gauge)()
    user = await sync_to_async(UserFactory)()
    headers = await sync_to_async(ws_headers_for)(user)
    communicator = WebsocketCommunicator(application, "/ws/odds/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert await sync_to_async(gauge)() == before + 1
    await communicator.disconnect()
    assert await sync_to_async(gauge)() == before


def test_json_log_lines():
    import json
    import logging

    from betthat.ops.jsonlog import JsonFormatter

    record = logging.makeLogRecord(
        {
            "name": "betthat.test",
            "levelname": "WARNING",
            "levelno": 30,
            "msg": "bet %s refused",
            "args": (12,),
        }
    )
    record.bet_id = 12
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line.replace("\\n", "")
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "betthat.test"
    assert entry["message"] == "bet 12 refused" and entry["bet_id"] == 12
    assert "ValueError: boom" in entry["exception"]
    assert timezone.datetime.fromisoformat(entry["time"]) - timezone.now() < timedelta(minutes=1)
