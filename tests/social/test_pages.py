"""Pages: profile (record, chart, follow button, 404 when private), settings, feed,
leaderboards, and the staff console."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from betthat.core.outbox import relay_outbox
from betting.services import bet_settle
from social import services
from social.models import Follow
from tests.betting.factories import make_game
from tests.factories import UserFactory
from tests.social.factories import bettor, place_and_relay, profile

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_profile_page_shows_the_verified_record_and_a_follow_button(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    star = bettor(handle="page_star", delay=0, stake="rounded")
    services.profile_update(user=star, bio="Closing-line hunter <script>alert(1)</script>")
    game = make_game()
    won = place_and_relay(star, game, stake=5000)
    lost = place_and_relay(star, game, stake=5000, alias="over")
    bet_settle(bet_id=won.pk, result="win", staff=staff, reason="t")
    bet_settle(bet_id=lost.pk, result="loss", staff=staff, reason="t")
    relay_outbox()
    fan = bettor(handle="page_fan")
    html = logged_in(fan).get("/u/page_star/").content.decode()
    assert (
        "@page_star" in html
        and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        and "<script>alert" not in html
    )
    assert re.search(r'data-testid="record-bets">2<', html)
    assert re.search(r'data-testid="record-roi">\+10\.0%<', html)  # (6000 - 5000) / 10000
    assert re.search(r'data-testid="record-win-rate">50\.0%<', html)
    assert 'data-testid="profit-chart"' in html and "+1.20u" in html
    assert "50 to 51 USD" in html and "50.00 USD" not in html
    assert 'data-testid="follow-button"' in html

    response = logged_in(fan).post("/u/page_star/follow/")
    assert response.status_code == 302 and Follow.objects.filter(follower=fan, followee=star).exists()
    html = logged_in(fan).get("/u/page_star/").content.decode()
    assert 'data-testid="unfollow-button"' in html and re.search(r'data-testid="followers-count">1<', html)
    logged_in(fan).post("/u/page_star/unfollow/")
    assert not Follow.objects.filter(follower=fan, followee=star).exists()
    # anonymous visitors may read a public profile and are asked to log in to follow
    assert "Log in to follow" in client.get("/u/page_star/").content.decode()
    assert client.get("/u/PAGE_STAR/").url == "/u/page_star/"


def test_a_private_profile_page_is_a_404_to_others_and_a_preview_for_its_owner(client):
    shy = bettor(handle="page_shy", public=False)
    other = bettor(handle="page_other")
    assert client.get("/u/page_shy/").status_code == 404
    assert logged_in(other).get("/u/page_shy/").status_code == 404
    assert logged_in(other).post("/u/page_shy/follow/").status_code == 404
    html = logged_in(shy).get("/u/page_shy/").content.decode()
    assert 'data-testid="private-banner"' in html and "Edit profile" in html


def test_settings_page_is_labelled_and_saves_or_explains(client):
    me = bettor(handle="page_me", public=False)
    bettor(handle="page_taken")
    page = logged_in(me)
    html = page.get("/profile/settings/").content.decode()
    for label in ("Handle", "Public profile", "Stakes shown to others", "Live delay (seconds)", "Bio"):
        assert label in html
    assert '<label for="id_handle">' in html and 'for="id_live_delay_sec"' in html
    form = {
        "handle": "page_taken",
        "is_public": "on",
        "stake_visibility": "exact",
        "live_delay_sec": "60",
        "bio": "hi",
    }
    response = page.post("/profile/settings/", form)
    assert response.status_code == 200 and "This handle is not available." in response.content.decode()
    assert profile(me).handle == "page_me" and not profile(me).is_public
    response = page.post("/profile/settings/", {**form, "live_delay_sec": "90000"})
    assert 'data-testid="error-live_delay_sec"' in response.content.decode()
    response = page.post("/profile/settings/", {**form, "handle": "Page_Me_Two"})
    assert response.status_code == 302
    saved = profile(me)
    assert (saved.handle, saved.is_public, saved.stake_visibility, saved.live_delay_sec, saved.bio) == (
        "page_me_two",
        True,
        "exact",
        60,
        "hi",
    )
    assert client.get("/profile/settings/").status_code == 302  # login first


def test_feed_page_empty_states_and_items():
    fan = bettor(handle="page_feedfan")
    html = logged_in(fan).get("/feed/").content.decode()
    assert "You follow nobody yet" in html and 'id="feed-item-template"' in html
    assert 'src="/static/social/feed.js"' in html and "<script>" not in html
    star = bettor(handle="page_feedstar", delay=3600)
    services.follow_create(follower=fan, handle="page_feedstar")
    place_and_relay(star)
    html = logged_in(fan).get("/feed/").content.decode()
    assert "Nothing yet from the bettors you follow" in html and 'data-public-bet-id="' not in html
    assert logged_in(fan).get("/feed/?cursor=bad!").status_code == 302


def test_leaderboards_page_empty_state_and_bad_tabs(client):
    html = client.get("/leaderboards/").content.decode()
    assert "Nobody ranked yet" in html and 'data-testid="tab-window-30d"' in html
    assert client.get("/leaderboards/?window=1y").status_code == 302


def test_staff_console_searches_hides_and_resets(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    star = bettor(handle="page_modded")
    services.profile_update(user=star, bio="spam spam")
    console = logged_in(staff)
    assert "page_modded" in console.get("/admin/social/profile/?q=page_mod").content.decode()
    pk = profile(star).pk
    confirm = console.post(
        "/admin/social/profile/", {"action": "hide_profiles", "_selected_action": [pk]}
    ).content.decode()
    assert "Reason (audited)" in confirm
    console.post(
        "/admin/social/profile/",
        {"action": "hide_profiles", "_selected_action": [pk], "apply": "1", "reason": "spam"},
    )
    console.post(
        "/admin/social/profile/",
        {"action": "reset_bios", "_selected_action": [pk], "apply": "1", "reason": "ads"},
    )
    saved = profile(star)
    assert saved.hidden_at is not None and saved.hidden_reason == "spam" and saved.bio == ""
    assert client.get("/u/page_modded/").status_code == 404
    for path in ("follow", "publicbet", "leaderboardrank", "leaderboardrun"):
        assert console.get(f"/admin/social/{path}/").status_code == 200


def test_feed_page_links_every_followed_profile_with_one_reverse_however_many(monkeypatch):
    """The "Following" links cost one URL reverse for the lot, not one each (a reader
    following 1,000 bettors spent a fifth of the page's time reversing 200 of them)."""
    from django.urls import resolvers

    fan = bettor(handle="page_manyfan")
    for index in range(12):
        bettor(handle=f"page_followed_{index:02d}")
        services.follow_create(follower=fan, handle=f"page_followed_{index:02d}")
    few = bettor(handle="page_fewfan")
    services.follow_create(follower=few, handle="page_followed_00")
    original = resolvers.URLResolver._reverse_with_prefix
    calls = []

    def counting(self, lookup_view, *args, **kwargs):
        calls.append(lookup_view)
        return original(self, lookup_view, *args, **kwargs)

    monkeypatch.setattr(resolvers.URLResolver, "_reverse_with_prefix", counting)
    html = logged_in(fan).get("/feed/").content.decode()
    links = re.findall(r'<a href="(/u/[^"]+/)">@(page_followed_\d\d)</a>', html)
    assert links == [(f"/u/page_followed_{i:02d}/", f"page_followed_{i:02d}") for i in range(12)]
    many = list(calls)
    calls.clear()
    html = logged_in(few).get("/feed/").content.decode()
    assert '<a href="/u/page_followed_00/">@page_followed_00</a>' in html
    # the same reverses (the page's navigation and one for the profile links) for 12 as for 1
    assert len(many) == len(calls) and many.count("profile") == calls.count("profile")
