"""/healthz and /readyz on the real PostgreSQL and a Redis this test starts and stops."""

from __future__ import annotations

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from betthat.ops import health
from tests.ops.conftest import database_unreachable
from tests.ops.factories import wait_for


@pytest.fixture(autouse=True)
def _forget_migrations_check():
    health._migrations_checked.clear()
    yield
    health._migrations_checked.clear()


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_without_the_database():
    with database_unreachable():
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_each_check():
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": {"ok": True}, "redis": {"ok": True}, "migrations": {"ok": True}},
    }
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_readyz_fails_while_redis_is_down_and_recovers(own_redis, settings):
    settings.REDIS_URL = own_redis.url
    client = Client()
    assert client.get("/readyz").status_code == 200

    own_redis.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "service_unavailable"
    assert body["error"]["message"] == "Not ready: redis."
    checks = body["error"]["details"]["checks"]
    assert checks["database"] == {"ok": True} and checks["migrations"] == {"ok": True}
    assert checks["redis"]["ok"] is False and "Connection" in checks["redis"]["detail"]
    assert response["Retry-After"] == "5"

    own_redis.start()
    wait_for(lambda: client.get("/readyz").status_code == 200)


@pytest.mark.django_db(transaction=True)
def test_readyz_fails_while_the_database_is_unreachable():
    with database_unreachable():
        response = Client().get("/readyz")
    assert response.status_code == 503
    checks = response.json()["error"]["details"]["checks"]
    assert checks["database"]["ok"] is False
    assert checks["migrations"] == {"ok": False, "detail": "database down"}
    assert Client().get("/readyz").status_code == 200  # and back


@pytest.mark.django_db
def test_readyz_fails_while_a_migration_is_not_applied():
    MigrationRecorder.Migration.objects.filter(app="ops", name="0001_monitoring_views").delete()
    response = Client().get("/readyz")
    assert response.status_code == 503
    detail = response.json()["error"]["details"]["checks"]["migrations"]["detail"]
    assert detail == "1 not applied: ops.0001_monitoring_views"


@pytest.mark.django_db
def test_readyz_tells_the_public_only_not_ready_and_logs_why(own_redis, settings, caplog):
    """Issue 18 item 11: /readyz gave anyone the raw error (hosts, ports, database names)."""
    settings.REDIS_URL = own_redis.url
    settings.DEBUG = False
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]
    settings.METRICS_BEARER_TOKEN = "s3cret-token"
    public = {"REMOTE_ADDR": "198.51.100.20"}
    assert Client().get("/readyz", **public).json() == {"status": "ready"}

    own_redis.stop()
    with caplog.at_level("WARNING", logger="betthat.ops.views"):
        response = Client().get("/readyz", **public)
    assert response.status_code == 503
    assert response.json() == {
        "error": {"code": "service_unavailable", "message": "Not ready.", "details": {}}
    }
    assert response["Retry-After"] == "5"
    assert "redis" in caplog.text and "Connection" in caplog.text  # the reason is in the log
    # The scraper (bearer token) still gets the checks.
    scraper = Client().get("/readyz", HTTP_AUTHORIZATION="Bearer s3cret-token", **public)
    assert scraper.json()["error"]["details"]["checks"]["redis"]["ok"] is False
    own_redis.start()
    wait_for(lambda: Client().get("/readyz", **public).status_code == 200)
