"""The feed's one prepared statement (`social.selectors._FEED_SQL`) answers byte for byte what
the ORM read and the presenter answered before it, on a feed that mixes every case a public
card has: exact, rounded and hidden stakes (and a mode made stricter after placing), a
delayed bet, settled, void and pending bets, a parlay, a player prop, a leg whose names are
not in its attributes, and followed bettors who went private, were hidden by staff,
suspended or soft-deleted, or never appear (not followed)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from betthat.users.models import User
from social import selectors, services
from social.models import Follow, Profile, PublicBet, listed_q
from tests.betting.factories import make_game
from tests.betting.helpers import leg, place
from tests.social.factories import HIDDEN_STAKE, bettor, place_and_relay, settled_public_bet

pytestmark = pytest.mark.django_db


def reference_page(user, *, cursor=None, limit=None, now):
    """The feed as the selector read it before the statement: the ORM queryset, its page,
    `bets_for_public_view` and `public_bet_item` for each row."""
    queryset = PublicBet.objects.filter(
        listed_q(profile="user__social_profile__"),
        user_id__in=Follow.objects.filter(follower_id=user.pk).values("followee_id"),
        visible_from__lte=now,
    )
    return selectors._page(queryset, cursor=cursor, limit=limit, now=now)


def body(page) -> bytes:
    """The API's response body for a page (FeedApi renders `_page_response`'s dict)."""
    return JSONRenderer().render({"results": page.items, "next_cursor": page.next_cursor})


def follow(fan, star) -> None:
    Follow.objects.create(follower=fan, followee=star)


@pytest.fixture
def varied_feed():
    fan = bettor(handle="fs_fan")
    exact = bettor(handle="fs_exact", stake="exact")
    rounded = bettor(handle="fs_rounded", stake="rounded")
    hidden = bettor(handle="fs_hidden", stake="hidden")
    stricter = bettor(handle="fs_stricter", stake="exact")
    delayed = bettor(handle="fs_delayed", delay=3600)
    gone_private = bettor(handle="fs_private")
    staff_hidden = bettor(handle="fs_staffhidden")
    suspended = bettor(handle="fs_suspended")
    deleted = bettor(handle="fs_deleted")
    stranger = bettor(handle="fs_stranger")
    for star in (exact, rounded, hidden, stricter, delayed, gone_private, staff_hidden, suspended, deleted):
        follow(fan, star)
    game, other = make_game(), make_game(home="Bills", away="Jets")
    place_and_relay(exact, game, stake=HIDDEN_STAKE, alias="home_ml")
    place_and_relay(exact, game, stake=1234, alias="over")
    place_and_relay(rounded, game, stake=HIDDEN_STAKE, alias="home_spread")
    place_and_relay(rounded, game, stake=12_345, alias="prop_over")
    place_and_relay(hidden, game, stake=HIDDEN_STAKE, alias="away_spread")
    place(hidden, leg(game.o("home_ml")), leg(other.o("under")), stake=2500)  # a parlay
    place_and_relay(stricter, game, stake=4321, alias="under")
    services.profile_update(user=stricter, stake_visibility="hidden")  # stricter than at placing
    place_and_relay(delayed, game, stake=3000, alias="away_ml")
    for star in (gone_private, staff_hidden, suspended, deleted, stranger):
        place_and_relay(star, game, stake=5000, alias="home_ml")
    # settled, void and a half win, each at its own time; one leg without names in its
    # attributes (read from its outcome, market and event rows)
    now = timezone.now()
    settled_public_bet(exact, stake=HIDDEN_STAKE, profit=HIDDEN_STAKE, result="win", clv="0.031250",
                       settled_at=now - timedelta(minutes=30), game=other)  # fmt: skip
    void = settled_public_bet(
        rounded, stake=777, profit=0, result="void", settled_at=now - timedelta(minutes=20)
    )
    PublicBet.objects.filter(pk=void.pk).update(status="void")
    half = settled_public_bet(hidden, stake=5000, profit=2500, result="half_win",
                              settled_at=now - timedelta(minutes=10))  # fmt: skip
    half.bet.legs.update(attributes={})
    from betthat.core.outbox import relay_outbox

    relay_outbox()
    services.profile_update(user=gone_private, is_public=False)
    Profile.objects.filter(user=staff_hidden).update(hidden_at=now)
    User.objects.filter(pk=suspended.pk).update(status=User.Status.SUSPENDED)
    User.objects.filter(pk=deleted.pk).update(deleted_at=now)
    return fan


def test_every_page_of_a_varied_feed_is_byte_identical_to_the_orm_read_and_presenter(varied_feed):
    now = timezone.now() + timedelta(seconds=1)
    reference = reference_page(varied_feed, now=now)
    handles = {item["handle"] for item in reference.items}
    # the fixture is what it says: every listed followed bettor, none of the others
    assert handles == {"fs_exact", "fs_rounded", "fs_hidden", "fs_stricter"}
    assert {item["stake"]["visibility"] for item in reference.items} == {"exact", "rounded", "hidden"}
    assert {item["status"] for item in reference.items} == {"settled", "void", "pending"}
    assert {item["result"] for item in reference.items} >= {"win", "void", "half_win"}
    assert any(len(item["legs"]) == 2 for item in reference.items)
    assert body(selectors.feed_for_user(user=varied_feed, now=now)) == body(reference)
    for limit in (1, 3, 20):
        cursor, seen = None, []
        while True:
            expected = reference_page(varied_feed, cursor=cursor, limit=limit, now=now)
            page = selectors.feed_for_user(user=varied_feed, cursor=cursor, limit=limit, now=now)
            assert body(page) == body(expected)
            seen += [item["id"] for item in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [item["id"] for item in reference.items]


def test_the_hidden_stake_never_reaches_the_feed_and_the_api_serves_the_statements_page(varied_feed):
    client = APIClient()
    client.force_authenticate(varied_feed)
    response = client.get("/api/v1/feed/")
    assert response.status_code == 200
    reference = body(reference_page(varied_feed, now=timezone.now()))
    assert response.content == reference
    items = response.json()["results"]
    hidden = [item for item in items if item["handle"] in ("fs_hidden", "fs_stricter")]
    assert hidden and all(item["stake"] == {"visibility": "hidden", "display": "Hidden"} for item in hidden)
    assert all(item["net_profit"] is None for item in hidden)
    assert b"987.65" not in JSONRenderer().render(hidden) and b"987.65" in response.content  # exact shows it
    names_from_rows = [item for item in items if item["result"] == "half_win"]
    assert names_from_rows[0]["legs"][0]["market"] == "h2h"
    assert names_from_rows[0]["legs"][0]["selection"] == "Chiefs"
    assert names_from_rows[0]["event"] == "Chargers @ Chiefs"
    assert names_from_rows[0]["profit_units"] == "0.5000"


def test_the_feed_is_one_statement_whatever_the_page(varied_feed):
    selectors.feed_for_user(user=varied_feed)  # the connection's first use prepares it
    with CaptureQueriesContext(connection) as captured:
        page = selectors.feed_for_user(user=varied_feed, limit=2)
        selectors.feed_for_user(user=varied_feed, cursor=page.next_cursor, limit=5)
    assert len(captured.captured_queries) == 2
    assert all("FROM social_publicbet" in query["sql"] for query in captured.captured_queries)


def test_a_delayed_bet_appears_once_its_delay_has_passed(varied_feed):
    later = timezone.now() + timedelta(hours=2)
    items = selectors.feed_for_user(user=varied_feed, now=later).items
    assert "fs_delayed" in {item["handle"] for item in items}
    assert body(selectors.feed_for_user(user=varied_feed, now=later)) == body(
        reference_page(varied_feed, now=later)
    )
    assert Decimal(items[0]["odds_decimal"]) > 1
