"""Request bodies are capped for the API's parsers too (issue 8 item 5)."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


def test_a_json_body_over_the_upload_limit_is_413(user_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"name": "x" * 2000})
    response = user_client.patch("/api/v1/me/", body, content_type="application/json")
    assert response.status_code == 413, response.content
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert error["details"] == {"max_bytes": 1000}


def test_a_form_body_over_the_upload_limit_is_413(user_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = user_client.patch(
        "/api/v1/me/", "name=" + "x" * 2000, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413, response.content
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_body_within_the_limit_is_parsed(user_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = user_client.patch("/api/v1/me/", {"name": "Ann"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Ann"


def test_malformed_json_is_400_in_the_error_shape(user_client):
    response = user_client.patch("/api/v1/me/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_an_unknown_api_path_posted_with_a_session_is_404_json_not_a_csrf_page():
    """Schemathesis found it: a path under /api/ that matches no route (say, a non-numeric
    id) went to a view that Django's CSRF check guarded, so it answered an HTML 403."""
    from django.test import Client

    from tests.factories import UserFactory

    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    for method in (client.post, client.delete):
        response = method("/api/v1/auth/tokens/null,null/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "handler,status,code",
    [
        ("bad_request", 400, "bad_request"),
        ("permission_denied", 403, "permission_denied"),
        ("page_not_found", 404, "not_found"),
        ("server_error", 500, "server_error"),
        ("csrf_failure", 403, "csrf_failed"),
    ],
)
def test_error_handlers_answer_the_error_shape_under_api(rf, handler, status, code):
    from betthat.core import views

    view = getattr(views, handler)
    request = rf.post("/api/v1/anything/")
    response = view(request) if handler == "server_error" else view(request, None)
    assert response.status_code == status
    assert json.loads(response.content)["error"]["code"] == code
    page = rf.get("/wallet/")
    html = view(page) if handler == "server_error" else view(page, None)
    assert html.status_code == status
    assert html["Content-Type"].startswith("text/html")


def test_the_project_uses_these_handlers():
    from betthat import urls

    assert urls.handler404 == "betthat.core.views.page_not_found"
    assert urls.handler500 == "betthat.core.views.server_error"
