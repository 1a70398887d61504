"""Schemathesis over the whole OpenAPI schema (issue 8 item 9): every operation, authenticated
as a funded bettor, against the real WSGI application in-process on the test database.

Checks: no 5xx (`not_a_server_error`), every documented response body matches its schema
(`response_schema_conformance`) and has the documented content type (`content_type_conformance`).
Error statuses the schema does not list (401/403/404/409/413/429) are allowed: their bodies are
the one error shape, checked by `assert_error_shape` below.

Run: .venv/bin/python -m pytest -p no:xdist -q tests/core/test_schemathesis.py
(SCHEMATHESIS_EXAMPLES sets the examples per operation; 10 by default).
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from betthat.users import services
from betthat.users.models import ApiToken
from tests.betting.factories import make_game
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

EXAMPLES = django_settings.SCHEMATHESIS_EXAMPLES


def _schema() -> schemathesis.schemas.BaseSchema:
    document = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = get_wsgi_application()
    return loaded


schema = _schema()

# Operations whose server errors belong to other engineers' areas and are being fixed in their
# branches right now; each is listed with its cause in docs/security.md and the report. Empty
# when the whole schema is green.
KNOWN_OTHERS: dict[tuple[str, str], str] = {}


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes database connections after each request; the test's own
    transaction lives on that connection (Django's test client does the same)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bettor(db):
    user = UserFactory()
    fund_user(user, 100_000)
    make_game()
    return user


def assert_error_shape(response) -> None:
    if response.status_code < 400 or response.request.method == "HEAD":
        return  # HEAD answers carry no body
    content_type = {k.lower(): v for k, v in response.headers.items()}.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), (
        response.status_code,
        response.headers,
        response.content[:300],
        response.request.url,
    )
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"], body


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    database=None,
)
def test_api_has_no_server_error_and_conforms_to_its_schema(case, bettor):
    key = (case.method.upper(), case.path)
    if key in KNOWN_OTHERS:
        pytest.xfail(KNOWN_OTHERS[key])
    # A new token per example: one operation (DELETE /auth/token/) revokes the token it uses.
    token = services.user_token_create(user=bettor, name="schemathesis", source=ApiToken.Source.CREDENTIALS)
    response = case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
    assert_error_shape(response)
