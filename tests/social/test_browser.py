"""In Chromium: bettor A makes the profile public with a 60-second delay and places a bet;
bettor B follows A, does not see the bet in the open feed, then sees it arrive live when
the delay has passed (the release is run with the clock at visible_from, not slept for)."""

from __future__ import annotations

import pytest

from betthat.core.outbox import relay_outbox
from social import services
from social.models import Profile, PublicBet
from tests.betting.factories import make_game
from tests.betting.helpers import leg, place
from tests.conftest import browser_log_in
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def off_the_loop(func, *args, **kwargs):
    """Run `func` in another thread: Playwright's sync API keeps an event loop in this one,
    and the channel-layer sends that follow a commit cannot run inside it."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def call():
        try:
            return func(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result(timeout=60)


def test_a_followed_bettors_delayed_bet_arrives_live_in_the_feed(browser_page, asgi_server, settings):
    settings.OUTBOX_NUDGE = False
    page = browser_page
    alice, bob = UserFactory(name="Alice Browser"), UserFactory(name="Bob Browser")
    off_the_loop(fund_user, alice, 100_000)
    game = make_game()

    # A: public, 60-second delay, stakes rounded, in the settings page
    browser_log_in(page, alice, asgi_server)
    page.goto(asgi_server + "/profile/settings/")
    page.get_by_label("Handle").fill("alice_live")
    page.get_by_label("Public profile").check()
    page.get_by_label("Rounded: a range such as 1,200 to 1,300").check()
    page.get_by_label("Live delay (seconds)").fill("60")
    page.get_by_test_id("profile-save").click()
    page.get_by_text("Profile saved.").wait_for()
    saved = Profile.objects.get(user=alice)
    assert (saved.handle, saved.is_public, saved.live_delay_sec, saved.stake_visibility) == (
        "alice_live",
        True,
        60,
        "rounded",
    )

    # B: follows A from A's profile page, opens the feed: nothing yet
    browser_log_in(page, bob, asgi_server)
    page.goto(asgi_server + "/u/alice_live/")
    page.get_by_test_id("follow-button").click()
    page.get_by_test_id("unfollow-button").wait_for()
    page.goto(asgi_server + "/feed/")
    page.wait_for_function("() => document.getElementById('feed-status').textContent.startsWith('live')")
    assert page.locator("#feed-list [data-public-bet-id]").count() == 0

    # A places a bet (through bet_place; the worker's relay publishes it)
    bet = off_the_loop(place, alice, leg(game.o("home_ml")), stake=12_345)
    off_the_loop(relay_outbox)
    public = PublicBet.objects.get(bet_id=bet.pk)
    assert off_the_loop(services.public_bets_release) == 0  # 60 seconds have not passed
    page.reload()
    page.wait_for_function("() => document.getElementById('feed-status').textContent.startsWith('live')")
    assert page.locator("#feed-list [data-public-bet-id]").count() == 0
    assert "Nothing yet from the bettors you follow" in page.inner_text("#feed-list")

    # the delay passes: the release (beat sweep or the task at visible_from) pushes it
    assert off_the_loop(services.public_bets_release, now=public.visible_from) == 1
    card = page.locator(f'#feed-list [data-public-bet-id="{public.pk}"]')
    card.wait_for()
    assert card.get_by_test_id("bet-stake").inner_text() == "120 to 130 USD"
    assert "@alice_live" in card.inner_text() and "Chiefs" in card.inner_text()
    assert "123.45" not in page.content()
    assert page.locator("[data-testid=empty-state]").count() == 0


def test_a_newcomer_finds_a_bettor_from_the_feeds_empty_state_and_follows_them(browser_page, live_server):
    """From the empty feed: search by part of a display name, see only public matches,
    open the profile and follow; the leaderboards carry the same search box."""
    page = browser_page
    star = UserFactory()
    services.profile_update(user=star, handle="sharp_shooter", is_public=True, display_name="Grace Hopper")
    shy = UserFactory()
    services.profile_update(user=shy, handle="grace_private", is_public=False, display_name="Grace Private")
    newcomer = UserFactory()
    browser_log_in(page, newcomer, live_server.url)

    page.goto("/feed/")
    assert "You follow nobody yet" in page.text_content("[data-testid=feed-list]")
    page.fill("#people-q-feed", "grace")
    page.click("[data-testid=people-search] button[type=submit]")
    page.wait_for_url("**/people/?q=grace")
    people = page.locator("[data-testid=person]")
    assert people.count() == 1
    assert people.first.get_attribute("data-handle") == "sharp_shooter"
    assert "Grace Hopper" in people.first.text_content()
    people.first.locator("a").click()
    page.wait_for_url("**/u/sharp_shooter/")
    assert page.text_content("[data-testid=profile-name]") == "Grace Hopper"
    page.click("[data-testid=follow-button]")
    page.wait_for_selector("[data-testid=unfollow-button]")

    page.goto("/leaderboards/")
    page.fill("#people-q-leaderboards", "sharp")
    page.click("[data-testid=people-search] button[type=submit]")
    page.wait_for_url("**/people/?q=sharp")
    assert page.locator("[data-testid=person]").first.get_attribute("data-handle") == "sharp_shooter"
