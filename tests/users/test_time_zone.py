"""Times in the user's zone (issue 20, item 2): the zone is a validated IANA name on the
user, defaulting from the browser once; every page shows times in it; the API stays in UTC."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.test import Client

from betthat.users.models import User
from chat import services as chat_services
from chat.models import Message
from social import services as social_services
from social.models import LeaderboardRank
from tests.conftest import browser_log_in, wait_until
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)  # 10:30 in New York (EST), 16:30 in Paris


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def lobby_message_at(user, when: datetime) -> Message:
    lobby = chat_services.room_lobby()
    message, _created = chat_services.message_post(user=user, room=lobby, text="Kick-off soon", now=when)
    Message.objects.filter(pk=message.pk).update(ts=when)
    return message


def test_a_new_user_has_no_zone_until_the_browser_reports_one():
    assert UserFactory().timezone == ""


@pytest.mark.parametrize(
    ("zone", "shown"), [("America/New_York", "10:30"), ("Europe/Paris", "16:30"), ("", "15:30")]
)
def test_pages_show_times_in_the_users_zone(zone, shown):
    user = UserFactory(timezone=zone)
    lobby_message_at(user, AT)
    html = client_for(user).get("/chat/lobby/").content.decode()
    assert f'<time class="small muted" datetime="2026-12-04T15:30:00+00:00">{shown}</time>' in html


def test_leaderboards_say_when_they_were_updated_in_the_users_zone_with_the_zone():
    ranked = UserFactory()
    social_services.profile_update(user=ranked, handle="ranked_ny", is_public=True)
    LeaderboardRank.objects.create(
        window="7d", metric="roi", rank=1, user=ranked, value=0.1, n_bets=30, updated_at=AT
    )
    html = client_for(UserFactory(timezone="America/New_York")).get("/leaderboards/").content.decode()
    assert 'data-testid="leaderboards-updated">Dec 4, 10:30 EST</span>' in html


def test_the_api_stays_in_utc_for_a_user_in_another_zone():
    user = UserFactory(timezone="America/New_York")
    body = client_for(user).get("/api/v1/me/").json()
    assert body["timezone"] == "America/New_York"
    assert body["created_at"].endswith("Z")


def test_the_browser_zone_is_stored_once_and_never_replaces_a_chosen_one():
    user = UserFactory()
    client = client_for(user)
    response = client.post(
        "/api/v1/me/timezone/detected/", {"timezone": "America/New_York"}, "application/json"
    )
    assert response.status_code == 200 and response.json() == {"timezone": "America/New_York"}
    response = client.post("/api/v1/me/timezone/detected/", {"timezone": "Asia/Tokyo"}, "application/json")
    assert response.json() == {"timezone": "America/New_York"}
    user.refresh_from_db()
    assert user.timezone == "America/New_York"


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "", "America/New_York<script>", 5, None])
def test_a_reported_zone_that_is_not_a_zone_is_a_400_and_changes_nothing(bad):
    user = UserFactory()
    response = client_for(user).post("/api/v1/me/timezone/detected/", {"timezone": bad}, "application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    user.refresh_from_db()
    assert user.timezone == ""


def test_reporting_a_zone_needs_a_login():
    response = Client().post("/api/v1/me/timezone/detected/", {"timezone": "UTC"}, "application/json")
    assert response.status_code in (401, 403)


@pytest.mark.parametrize(
    ("value", "status", "stored"),
    [("Europe/Paris", 200, "Europe/Paris"), ("", 200, ""), ("Nowhere/City", 400, "UTC")],
)
def test_the_zone_is_set_through_the_api(token_client_for, value, status, stored):
    user = UserFactory(timezone="UTC")
    response = token_client_for(user).patch("/api/v1/me/", {"timezone": value}, format="json")
    assert response.status_code == status
    user.refresh_from_db()
    assert user.timezone == stored


def test_the_zone_is_set_on_the_settings_page_and_blank_means_automatic():
    user = UserFactory(timezone="UTC")
    client = client_for(user)
    page = client.get("/account/settings/").content.decode()
    assert "Automatic: your browser&#x27;s time zone" in page and 'value="America/New_York"' in page
    form = {
        "name": user.name,
        "phone": "",
        "timezone": "America/New_York",
        "risk_tolerance": "medium",
        "auto_kelly_sizing": "on",
        "max_kelly_fraction": "0.25",
        "odds_format": "american",
        "devig_method": "multiplicative",
        "reference": "sharp",
        "theme": "dark",
    }
    assert client.post("/account/settings/", form).status_code == 302
    user.refresh_from_db()
    assert user.timezone == "America/New_York"
    assert client.post("/account/settings/", {**form, "timezone": "Not/AZone"}).status_code == 200
    user.refresh_from_db()
    assert user.timezone == "America/New_York"


def test_the_migration_turns_the_old_utc_default_into_no_zone_yet():
    chose, never = UserFactory(timezone="Europe/Paris"), UserFactory(timezone="UTC")
    migration = importlib.import_module(
        "betthat.users.migrations.0004_timezone_blank_until_the_browser_reports"
    )
    migration.utc_to_blank(apps, None)
    assert dict(User.objects.filter(pk__in=[chose.pk, never.pk]).values_list("pk", "timezone")) == {
        chose.pk: "Europe/Paris",
        never.pk: "",
    }


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_user_in_new_york_sees_new_york_times(browser_page, live_server):
    user = UserFactory()  # no zone yet
    lobby_message_at(user, AT)
    context = browser_page.context.browser.new_context(
        base_url=live_server.url, timezone_id="America/New_York"
    )
    try:
        page = context.new_page()
        browser_log_in(page, user, live_server.url)
        page.goto("/chat/lobby/")  # the first page reports the browser's zone
        wait_until(
            lambda: User.objects.get(pk=user.pk).timezone == "America/New_York",
            what="the browser's zone to be stored",
        )
        page.goto("/chat/lobby/")
        assert page.locator("#messages li.chat-msg time").first.inner_text() == "10:30"
        assert "times in America/New_York" in page.locator("footer").inner_text()
        # times the scripts write (websocket rows, the feed) use the same zone
        assert page.evaluate("() => BT.fmt.when('2026-12-04T15:30:00Z', 'clock')") == "10:30"
        assert page.evaluate("() => BT.fmt.when('2026-12-04T15:30:00Z')") == "Dec 4, 10:30"
    finally:
        context.close()


def ranked_board_updated_at(when: datetime) -> None:
    ranked = UserFactory()
    social_services.profile_update(user=ranked, handle="ranked_anon", is_public=True)
    LeaderboardRank.objects.create(
        window="7d", metric="roi", rank=1, user=ranked, value=0.1, n_bets=30, updated_at=when
    )


@pytest.mark.parametrize(
    ("cookie", "shown"),
    [
        ("America/New_York", "Dec 4, 10:30 EST"),
        ("Europe/Paris", "Dec 4, 16:30 CET"),
        ("Mars/Olympus_Mons", "Dec 4, 15:30 UTC"),
        ("America/New_York<script>", "Dec 4, 15:30 UTC"),
        ("", "Dec 4, 15:30 UTC"),
    ],
)
def test_a_visitor_sees_times_in_the_zone_of_their_browser_cookie(cookie, shown):
    ranked_board_updated_at(AT)
    client = Client()
    client.cookies["bt_tz"] = cookie
    html = client.get("/leaderboards/").content.decode()
    assert f'data-testid="leaderboards-updated">{shown}</span>' in html


def test_a_chosen_zone_wins_over_the_cookie_and_the_api_ignores_the_cookie():
    ranked_board_updated_at(AT)
    user = UserFactory(timezone="Europe/Paris")
    client = client_for(user)
    client.cookies["bt_tz"] = "America/New_York"
    html = client.get("/leaderboards/").content.decode()
    assert 'data-testid="leaderboards-updated">Dec 4, 16:30 CET</span>' in html
    body = client.get("/api/v1/me/").json()
    assert body["created_at"].endswith("Z")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_visitor_in_new_york_who_is_not_signed_in_sees_new_york_times(browser_page, live_server):
    ranked_board_updated_at(AT)
    context = browser_page.context.browser.new_context(
        base_url=live_server.url, timezone_id="America/New_York"
    )
    try:
        page = context.new_page()
        page.goto("/leaderboards/")  # the first page stores the browser's zone in a cookie
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        assert cookies.get("bt_tz") == "America/New_York"
        assert settings_session_cookie_absent(cookies)
        page.goto("/leaderboards/")
        assert page.inner_text("[data-testid=leaderboards-updated]") == "Dec 4, 10:30 EST"
        assert "times in America/New_York" in page.locator("footer").inner_text()
        # a cookie set to nonsense is ignored: UTC again
        context.add_cookies([{"name": "bt_tz", "value": "Nowhere/Atlantis", "url": live_server.url}])
        page.goto("/leaderboards/", wait_until="commit")
        page.wait_for_selector("[data-testid=leaderboards-updated]")
        assert page.inner_text("[data-testid=leaderboards-updated]") == "Dec 4, 15:30 UTC"
    finally:
        context.close()


def settings_session_cookie_absent(cookies: dict[str, str]) -> bool:
    from django.conf import settings

    return settings.SESSION_COOKIE_NAME not in cookies
