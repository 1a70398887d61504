"""Chat pages, server-rendered."""

from __future__ import annotations

import pytest
from django.test import Client

from chat import presence, services
from chat.models import Room
from tests.edges.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser_client(user):
    client = Client()
    client.force_login(user)
    return client


def test_lobby_lists_open_rooms_with_counts_and_games(browser_client, lobby, user):
    event = EventFactory()
    presence.heartbeat(lobby.pk, user.pk, "c1")
    html = browser_client.get("/chat/").content.decode()
    assert 'data-testid="presence-lobby"' in html and "1 here" in html
    assert f"/chat/event/{event.pk}/" in html  # a game without a room yet


def test_an_event_room_opens_on_first_visit(browser_client):
    event = EventFactory()
    response = browser_client.get(f"/chat/event/{event.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/chat/event-{event.pk}/"
    room = Room.objects.get(event_id=event.pk)
    assert room.kind == "event" and room.title == str(event)
    html = browser_client.get(response["Location"]).content.decode()
    assert 'data-testid="market-panel"' in html and f'data-event="{event.pk}"' in html
    assert browser_client.get("/chat/event/999999/").status_code == 404


def test_room_page_escapes_text_and_shows_tombstones(browser_client, lobby, user):
    services.message_post(user=user, room=lobby, text="<script>alert(1)</script> & <b>bold</b>")
    html = browser_client.get("/chat/lobby/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script>alert(1)" not in html
    assert "<script>" not in html.split("chat-reactions")[0].split("</header>", 1)[1]  # no inline script


def test_empty_room_and_refusal_are_said(lobby):
    from betthat.users.models import User
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory(verification_level=User.VerificationLevel.NONE))
    html = client.get("/chat/lobby/").content.decode()
    assert "No messages yet" in html and 'data-testid="write-refusal"' in html and "Verify your email" in html
    assert 'id="chat-form"' not in html


def test_unknown_room_is_404_and_anonymous_goes_to_login(browser_client):
    assert browser_client.get("/chat/nope/").status_code == 404
    response = Client().get("/chat/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
