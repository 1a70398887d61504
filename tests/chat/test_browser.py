"""Two people in one event room, in real headless Chromium over the real ASGI server."""

from __future__ import annotations

import pytest

from chat import services
from tests.conftest import browser_log_in
from tests.edges.factories import EventFactory
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_people_chat_live_with_presence_and_reactions(browser_page, asgi_server):
    alice, bob = UserFactory(name="Alice Sharp"), UserFactory(name="Bob Value")
    event = EventFactory()
    room = services.room_for_event(event_id=event.pk, title=str(event))
    page_a = browser_page
    browser_log_in(page_a.context, alice, asgi_server)
    context_b = page_a.context.browser.new_context(base_url=asgi_server)
    browser_log_in(context_b, bob, asgi_server)
    page_b = context_b.new_page()
    page_b.set_default_timeout(15000)
    errors = []
    page_a.on("pageerror", lambda e: errors.append(str(e)))
    page_b.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page_a.goto(f"{asgi_server}/chat/{room.slug}/")
        page_b.goto(f"{asgi_server}/chat/{room.slug}/")
        page_a.wait_for_function("() => document.getElementById('presence-count').textContent === '2'")
        page_b.wait_for_function("() => document.getElementById('presence-count').textContent === '2'")

        page_a.fill("#chat-text", "Over 47.5 looks <b>sharp</b>")
        page_a.keyboard.press("Enter")
        line = page_b.locator("#messages li.chat-msg", has_text="Over 47.5 looks <b>sharp</b>")
        line.wait_for()
        assert line.locator("b").count() == 0  # text, not markup

        line.locator("button.react[data-emoji='🔥']").click()
        mine = page_a.locator("#messages li.chat-msg", has_text="Over 47.5")
        mine.locator("button.react.on[data-emoji='🔥']").wait_for()
        assert mine.locator("button.react[data-emoji='🔥']").text_content() == "🔥 1"

        context_b.close()
        page_a.wait_for_function("() => document.getElementById('presence-count').textContent === '1'")
        assert errors == []
    finally:
        if context_b.pages:
            context_b.close()
