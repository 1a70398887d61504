"""A lost database or Redis answers 503 in the error shape (never a 500 page or a hang), and
the next request after the service is back succeeds."""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError
from django.test import Client
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from betthat.ops.outages import outage_service
from tests.factories import UserFactory
from tests.ops.conftest import database_unreachable
from tests.ops.factories import wait_for


def _django_error(cause: BaseException) -> OperationalError:
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "service"),
    [
        (_django_error(psycopg.OperationalError("connection refused")), "database"),
        (_django_error(psycopg.errors.AdminShutdown()), "database"),
        (_django_error(psycopg.errors.TooManyConnections()), "database"),
        (_django_error(psycopg.errors.SerializationFailure()), None),  # a retry, not an outage
        (_django_error(psycopg.errors.QueryCanceled()), None),
        (RedisConnectionError("Error 111 connecting"), "redis"),
        (ResponseError("WRONGTYPE"), None),
        (BrokerError("Error 111 connecting"), "broker"),
        (ValueError("a bug"), None),
    ],
)
def test_which_errors_are_outages(error, service):
    assert outage_service(error) == service


@pytest.mark.django_db(transaction=True)
def test_api_answers_503_in_the_error_shape_while_the_database_is_unreachable(token_client_for):
    user = UserFactory()
    client = token_client_for(user)
    # the wallet reads the database on every request (the token itself may come from its cache)
    assert client.get("/api/v1/wallet/").status_code == 200
    with database_unreachable():
        response = client.get("/api/v1/wallet/")
    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "code": "service_unavailable",
            "message": "The service is briefly unavailable. Nothing was changed; please try again shortly.",
            "details": {"service": "database"},
        }
    }
    assert response["Retry-After"] == "5"
    assert client.get("/api/v1/wallet/").status_code == 200  # back by itself


@pytest.mark.django_db(transaction=True)
def test_a_page_answers_503_while_the_database_is_unreachable():
    user = UserFactory()
    # as a server would: the exception is answered, not re-raised into the test
    client = Client(raise_request_exception=False)
    client.force_login(user)  # the session lives in the database: the middleware needs it
    assert client.get("/wallet/").status_code == 200
    with database_unreachable():
        response = client.get("/wallet/")
        api = client.get("/api/v1/wallet/", HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert b"Back in a moment" in response.content
    assert response["Retry-After"] == "5"
    assert api.status_code == 503 and api.json()["error"]["details"] == {"service": "database"}
    assert client.get("/wallet/").status_code == 200


@pytest.mark.django_db
def test_api_answers_503_while_redis_is_down_and_recovers(own_redis, settings, token_client_for):
    """The API's throttle keeps its counters in Redis: with Redis gone every API call needs it."""
    location = settings.CACHES["default"]
    settings.CACHES = {"default": {**location, "LOCATION": own_redis.url}}
    client = token_client_for(UserFactory())
    assert client.get("/api/v1/me/").status_code == 200

    own_redis.stop()
    response = client.get("/api/v1/me/")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.json()["error"]["details"] == {"service": "redis"}

    own_redis.start()
    wait_for(lambda: client.get("/api/v1/me/").status_code == 200)
