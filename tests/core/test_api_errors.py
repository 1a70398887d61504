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
