"""The chat REST API: same rules as the socket, the public error shape, in the schema."""

from __future__ import annotations

import pytest

from chat import presence, services
from chat.models import Message, Report
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def test_rooms_with_presence_counts(user_client, lobby, user):
    presence.heartbeat(lobby.pk, user.pk, "c1")
    rows = user_client.get("/api/v1/chat/rooms/").json()
    assert rows == [
        {
            "slug": "lobby",
            "kind": "lobby",
            "title": "Lobby",
            "event_id": None,
            "slow_mode_sec": 0,
            "closed": False,
            "present": 1,
        }
    ]


def test_post_history_and_idempotency(user_client, lobby):
    first = user_client.post(
        "/api/v1/chat/rooms/lobby/messages/", {"text": "hello api"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == 201 and first.json()["text"] == "hello api"
    again = user_client.post(
        "/api/v1/chat/rooms/lobby/messages/", {"text": "hello api"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Message.objects.count() == 1
    page = user_client.get("/api/v1/chat/rooms/lobby/messages/").json()
    assert [m["text"] for m in page["messages"]] == ["hello api"] and page["before"] is None


def test_history_pages_with_the_cursor(user_client, lobby, user, generous_limits):
    for i in range(7):
        services.message_post(user=user, room=lobby, text=f"m{i}")
    page = user_client.get("/api/v1/chat/rooms/lobby/messages/?limit=3").json()
    assert [m["text"] for m in page["messages"]] == ["m4", "m5", "m6"]
    page2 = user_client.get(f"/api/v1/chat/rooms/lobby/messages/?limit=3&before={page['before']}").json()
    assert [m["text"] for m in page2["messages"]] == ["m1", "m2", "m3"]
    page3 = user_client.get(f"/api/v1/chat/rooms/lobby/messages/?limit=3&before={page2['before']}").json()
    assert [m["text"] for m in page3["messages"]] == ["m0"] and page3["before"] is None


@pytest.mark.parametrize("query", ["?limit=0", "?limit=abc", "?limit=٣", "?before=@@@", "?before=Zm9v"])
def test_bad_history_queries_are_400(user_client, lobby, query):
    _error(user_client.get(f"/api/v1/chat/rooms/lobby/messages/{query}"), 400, "validation_error")


def test_unknown_room_and_message_are_404(user_client, lobby):
    _error(user_client.get("/api/v1/chat/rooms/nope/messages/"), 404, "not_found")
    _error(
        user_client.post("/api/v1/chat/messages/not-a-uuid/reactions/", {"emoji": "👍"}, format="json"),
        404,
        "not_found",
    )


def test_rate_limit_is_a_429_in_the_error_shape(user_client, lobby, settings):
    settings.CHAT_RATE_MESSAGES = 1
    assert (
        user_client.post("/api/v1/chat/rooms/lobby/messages/", {"text": "one"}, format="json").status_code
        == 201
    )
    error = _error(
        user_client.post("/api/v1/chat/rooms/lobby/messages/", {"text": "two"}, format="json"),
        429,
        "rate_limited",
    )
    assert error["details"]["retry_after"] > 0


def test_bad_bodies_are_400(user_client, lobby):
    for body in (
        {},
        {"text": ""},
        {"text": "x" * 501},
        {"text": ["a"]},
        {"text": "ok", "client_id": "bad id!"},
    ):
        _error(
            user_client.post("/api/v1/chat/rooms/lobby/messages/", body, format="json"),
            400,
            "validation_error",
        )
    assert Message.objects.count() == 0


def test_react_and_report(user_client, token_client_for, lobby, user):
    author = UserFactory()
    message, _ = services.message_post(user=author, room=lobby, text="react to me")
    url = f"/api/v1/chat/messages/{message.msg_id}/"
    body = user_client.post(url + "reactions/", {"emoji": "🎯"}, format="json").json()
    assert body["reacted"] is True and body["message"]["reactions"] == {"🎯": 1}
    assert user_client.post(url + "reactions/", {"emoji": "🎯"}, format="json").json()["reacted"] is False
    _error(user_client.post(url + "reactions/", {"emoji": "🍕"}, format="json"), 400, "validation_error")
    assert user_client.post(url + "report/", {"reason": "rude"}, format="json").status_code == 201
    assert Report.objects.get().reason == "rude"
    _error(token_client_for(author).post(url + "report/", {}, format="json"), 400, "validation_error")


def test_sharing_an_edge_or_someone_elses_bet(user_client, lobby):
    _error(
        user_client.post(
            "/api/v1/chat/rooms/lobby/messages/",
            {"text": "look", "share": {"kind": "edge", "ref": "nope"}},
            format="json",
        ),
        404,
        "not_found",
    )
    _error(
        user_client.post(
            "/api/v1/chat/rooms/lobby/messages/",
            {"text": "look", "share": {"kind": "bet", "ref": "999999"}},
            format="json",
        ),
        404,
        "not_found",
    )


def test_anonymous_gets_401(api_client, lobby):
    response = api_client.get("/api/v1/chat/rooms/")
    assert response.status_code in (401, 403) and "error" in response.json()


def test_the_endpoints_are_in_the_schema(user_client):
    schema = user_client.get("/api/schema/?format=json").json()
    paths = set(schema["paths"])
    assert {
        "/api/v1/chat/rooms/",
        "/api/v1/chat/rooms/{slug}/messages/",
        "/api/v1/chat/messages/{msg_id}/reactions/",
        "/api/v1/chat/messages/{msg_id}/report/",
    } <= paths
