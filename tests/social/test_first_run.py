"""The very first `make run` (issue 20, item 1): on a fresh database, the seeding path that
`scripts/run.py` runs (migrate, then `seed_demo`, before the demo feed has ticked once) leaves
the leaderboards ranked and the profiles, the feed and the chat rooms with history."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from betthat.users.models import User
from betting.models import Bet
from chat.models import Message, Room
from edges.models import SIMULATED_PREFIX, Event, OddsQuote
from social.models import LeaderboardRank, PublicBet
from tests.betting.factories import make_game
from tests.conftest import browser_log_in
from tests.social.test_browser import off_the_loop

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def seed_like_make_run(settings, tmp_path) -> str:
    """What scripts/run.py does after `migrate` (the test database is migrated and empty)."""
    settings.BASE_DIR = tmp_path  # the demo logins go to a temporary .data/
    settings.OUTBOX_NUDGE = False
    out = io.StringIO()
    off_the_loop(call_command, "seed_demo", stdout=out)
    return out.getvalue()


def test_the_first_run_seeds_ranked_boards_profiles_a_feed_and_chat(
    browser_page, asgi_server, settings, tmp_path
):
    assert not Event.objects.exists() and not OddsQuote.objects.exists()  # a fresh database
    real = make_game()  # an event of another feed: the demo must not bet on it
    output = seed_like_make_run(settings, tmp_path)

    assert "no open demo prices" not in output
    assert "social: 3 public profiles" in output
    assert OddsQuote.objects.filter(outcome__market__event__provider_id__startswith=SIMULATED_PREFIX).exists()
    assert LeaderboardRank.objects.filter(window="7d", metric="roi").count() == 3
    assert PublicBet.objects.filter(status="settled").count() >= 60
    assert not Bet.objects.filter(event=real.event).exists()
    # first bets taken from a +EV edge (when the first tick found one) keep that edge
    for bet in Bet.objects.exclude(edge_id=""):
        assert bet.edge_snapshot["edge_id"] == bet.edge_id and bet.edge_snapshot["kind"] == "positive_ev"
    assert Message.objects.count() >= 6

    page = browser_page
    carol = User.objects.get(email="carol@bet-that.local")
    browser_log_in(page, carol, asgi_server)

    page.goto(asgi_server + "/leaderboards/")
    board = page.get_by_test_id("leaderboard")
    assert sorted(
        board.locator("tr[data-handle]").evaluate_all("rows => rows.map(r => r.dataset.handle)")
    ) == [
        "alice_sharp",
        "bob_value",
        "carol_arb",
    ]
    assert page.get_by_text("Nobody ranked yet").count() == 0
    assert "Updated" in page.locator("main").inner_text()

    page.goto(asgi_server + "/u/alice_sharp/")
    assert int(page.get_by_test_id("record-bets").inner_text()) >= 24
    assert page.get_by_test_id("profile-bets").locator('[data-testid="public-bet"]').count() > 0

    page.goto(asgi_server + "/feed/")  # carol follows alice and bob
    cards = page.get_by_test_id("feed-list").locator('[data-testid="public-bet"]')
    assert cards.count() > 0
    handles = set(cards.locator('[data-field="handle"]').all_inner_texts())
    assert handles and handles <= {"@alice_sharp", "@bob_value"}

    page.goto(asgi_server + "/chat/lobby/")
    lobby = page.get_by_test_id("messages").locator("li.chat-msg")
    assert lobby.count() >= 6
    assert lobby.first.locator(".who").inner_text() in {"@alice_sharp", "@bob_value", "@carol_arb"}

    rooms = Room.objects.filter(event_id__isnull=False)
    assert rooms.count() == 4
    assert set(
        Event.objects.filter(pk__in=rooms.values("event_id")).values_list("provider_id", flat=True)
    ) <= {p for p in Event.objects.values_list("provider_id", flat=True) if p.startswith(SIMULATED_PREFIX)}
    page.goto(asgi_server + f"/chat/event/{rooms.first().event_id}/")
    assert page.get_by_test_id("messages").locator("li.chat-msg").count() >= 6
