"""Pages: the slip, My bets, statistics and responsible gambling."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from betting.models import Bet, LimitChange
from betting.services import bet_closing_lines_capture, settle_due_bets
from edges.models import Event
from edges.services import event_record_result
from tests.betting.factories import make_edge, set_price
from tests.betting.helpers import leg, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(funded_user):
    client = Client()
    client.force_login(funded_user)
    return client


def test_pages_need_a_login(client):
    for url in ("/bets/", "/bets/slip/", "/bets/stats/", "/bets/responsible/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_slip_prefills_the_kelly_stake(browser, game):
    url = f"/bets/slip/?outcome_id={game.o('home_ml').pk}&sportsbook=draftkings"
    html = browser.get(url).content.decode()
    assert 'data-testid="bet-slip"' in html and "Chiefs" in html and "+120" in html
    assert 'value="6.41"' in html  # the Kelly stake, as the recommendation API computes it
    partial = browser.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith("<div") and "<html" not in partial


def test_slip_from_an_edge(browser, game):
    edge = make_edge(game, "home_ml", "draftkings")
    html = browser.get(f"/bets/slip/?edge_id={edge.edge_id}").content.decode()
    assert f'data-edge-id="{edge.edge_id}"' in html and f'data-outcome-id="{game.o("home_ml").pk}"' in html
    assert browser.get("/bets/slip/?edge_id=nope").status_code == 404
    assert browser.get("/bets/slip/?outcome_id=abc&sportsbook=x").status_code == 404


def test_slip_without_auto_kelly_is_empty(browser, funded_user, game):
    funded_user.auto_kelly_sizing = False
    funded_user.save()
    html = browser.get(
        f"/bets/slip/?outcome_id={game.o('home_ml').pk}&sportsbook=draftkings"
    ).content.decode()
    assert 'name="stake" value=""' in html


def test_slip_for_a_closed_market_says_so(browser, game):
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(minutes=1))
    html = browser.get(
        f"/bets/slip/?outcome_id={game.o('home_ml').pk}&sportsbook=draftkings"
    ).content.decode()
    assert "Market closed at this book" in html


def test_my_bets_lists_results_and_clv(browser, funded_user, game):
    won = place(funded_user, leg(game.o("home_ml")), stake=1000)
    lost = place(funded_user, leg(game.o("away_ml")), stake=1000)
    set_price(game.o("home_ml"), "draftkings", "2.00")
    Event.objects.filter(pk=game.event.pk).update(
        status="live", commence_time=timezone.now() - timedelta(minutes=5)
    )
    bet_closing_lines_capture(event_id=game.event.pk)
    event_record_result(event_id=game.event.pk, home_score=30, away_score=3)
    settle_due_bets()
    html = browser.get("/bets/").content.decode()
    assert f'data-bet-id="{won.pk}"' in html and f'data-bet-id="{lost.pk}"' in html
    assert "+10.0%" in html  # CLV of the winner: 2.20 / 2.00 - 1
    assert ">Win<" in html and ">Loss<" in html and "22.00" in html
    settled_only = browser.get("/bets/?status=settled", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in settled_only and f'data-bet-id="{won.pk}"' in settled_only


def test_cancel_from_the_page(browser, funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")))
    response = browser.post(f"/bets/{bet.pk}/cancel/")
    assert response.status_code == 302
    assert Bet.objects.get(pk=bet.pk).status == "cancelled"
    response = browser.post(f"/bets/{bet.pk}/cancel/", follow=True)
    assert "Only a pending bet can be cancelled." in response.content.decode()


def test_statistics_page_draws_the_charts(browser, funded_user, game):
    place(funded_user, leg(game.o("home_ml")), stake=1000)
    place(funded_user, leg(game.o("away_ml")), stake=500)
    Event.objects.filter(pk=game.event.pk).update(
        status="live", commence_time=timezone.now() - timedelta(minutes=5)
    )
    bet_closing_lines_capture(event_id=game.event.pk)
    event_record_result(event_id=game.event.pk, home_score=30, away_score=3)
    settle_due_bets()
    html = browser.get("/bets/stats/").content.decode()
    assert 'data-testid="profit-chart"' in html and "<path d=" in html
    assert 'data-testid="clv-chart"' in html and "<rect" in html
    assert "7.00" in html  # profit: +12.00 - 5.00
    assert "NFL" in html and "DraftKings" in html  # names from the registry, not raw keys


def test_statistics_page_without_bets(browser):
    html = browser.get("/bets/stats/").content.decode()
    assert "Nothing to chart yet." in html


def test_responsible_gambling_page(browser, funded_user):
    response = browser.post(
        "/bets/responsible/",
        {
            "action": "limits",
            "max_bet_size": "500.00",
            "daily_bet_limit": "9000.00",
            "monthly_bet_limit": "50000.00",
        },
    )
    assert response.status_code == 302
    funded_user.refresh_from_db()
    assert funded_user.max_bet_size.amount == Decimal("500.00")  # a cut: at once
    assert funded_user.daily_bet_limit.amount == Decimal("5000.00")  # a raise: waits
    assert LimitChange.objects.get(user=funded_user, field="daily_bet_limit").amount_minor == 900000
    html = browser.get("/bets/responsible/").content.decode()
    assert 'data-testid="pending-limit"' in html
    response = browser.post("/bets/responsible/", {"action": "exclude", "days": "7"})
    assert response.status_code == 200  # not confirmed
    funded_user.refresh_from_db()
    assert funded_user.self_excluded_until is None
    browser.post("/bets/responsible/", {"action": "exclude", "days": "7", "confirm": "on"})
    funded_user.refresh_from_db()
    assert funded_user.is_self_excluded
    assert 'data-testid="excluded-until"' in browser.get("/bets/responsible/").content.decode()
    response = browser.post("/bets/responsible/", {"action": "limits", "max_bet_size": "-1"})
    assert response.status_code == 200


def test_my_bets_offers_cancel_only_within_the_grace_period(browser, funded_user, game, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.BETTING_CANCEL_GRACE_SECONDS = 60
    fresh = place(funded_user, leg(game.o("home_ml")))
    old = place(funded_user, leg(game.o("over")))
    Bet.objects.filter(pk=old.pk).update(placed_at=timezone.now() - timedelta(minutes=5))
    page = browser.get("/bets/").content.decode()
    assert f"/bets/{fresh.pk}/cancel/" in page and f"/bets/{old.pk}/cancel/" not in page


def test_a_rejected_bet_says_why(browser, funded_user, game, settings):
    from betthat.core.errors import ApplicationError

    settings.BETTING_SANDBOX_REJECT_BOOKS = ["draftkings"]
    with pytest.raises(ApplicationError):
        place(funded_user, leg(game.o("home_ml")))
    page = browser.get("/bets/").content.decode()
    assert "Rejected by the sportsbook" in page and "draftkings is not taking bets" in page
