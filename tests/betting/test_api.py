"""The betting API: placement through Idempotency-Key, errors in the shape, own bets only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from betting.models import Bet, LimitChange
from edges.services import event_record_result
from tests.betting.factories import make_game, set_price
from tests.betting.helpers import leg, place, state
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = pytest.mark.django_db

# The statements of one placement inside a test's transaction: the outcomes with their quote
# ages, the reservation (one call of `betting_bet_reserve`: locks, limit sums, bet with legs,
# hold, outbox row) in a savepoint, and after the venue the fill (status, ticket and
# bet.placed in one statement) in a savepoint.
PLACEMENT_QUERIES_MAX = 7


@pytest.fixture
def client(funded_user, token_client_for):
    return token_client_for(funded_user)


def body(game, alias="home_ml", price="2.20", stake="10.00", **extra):
    return {
        "legs": [{"outcome_id": game.o(alias).pk, "sportsbook": "draftkings", "odds_decimal": price}],
        "stake": stake,
        "currency": "USD",
        **extra,
    }


def post(client, data, key="k-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/bets/", data, format="json", **headers)


def test_place_returns_201_and_replays(client, funded_user, game):
    response = post(client, body(game))
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "pending" and data["kind"] == "straight"
    assert data["stake"] == {"amount": "10.00", "currency": "USD"}
    assert data["potential_return"] == {"amount": "22.00", "currency": "USD"}
    assert data["odds_decimal"] == "2.200000" and data["odds_american"] == 120
    assert data["legs"][0]["outcome"] == "Chiefs" and data["legs"][0]["matchup"] == "Chargers @ Chiefs"
    assert data["clv"]["has_closing_line"] is False
    again = post(client, body(game))
    assert again.status_code == 201 and again.json()["id"] == data["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Bet.objects.filter(user=funded_user).count() == 1


def test_same_key_other_body_is_a_conflict(client, funded_user, game):
    assert post(client, body(game)).status_code == 201
    before = state(funded_user)
    response = post(client, body(game, stake="11.00"))
    assert response.status_code == 409 and response.json()["error"]["code"] == "idempotency_conflict"
    assert state(funded_user) == before


def test_key_is_required(client, funded_user, game):
    response = post(client, body(game), key="")
    assert response.status_code == 400 and response.json()["error"]["code"] == "idempotency_key_required"
    assert Bet.objects.count() == 0


def test_price_changed_is_409_with_the_current_price(client, funded_user, game):
    set_price(game.o("home_ml"), "draftkings", "2.05")
    before = state(funded_user)
    response = post(client, body(game))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "price_changed" and error["details"]["current_price"] == "2.050000"
    assert state(funded_user) == before
    # one click: accept the new price, with the same key (a refused request keeps it free)
    accepted = post(client, body(game, price="2.05"))
    assert accepted.status_code == 201 and accepted.json()["odds_decimal"] == "2.050000"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"stake": "abc"}, 400, "invalid_amount"),
        ({"stake": "1.001"}, 400, "invalid_amount"),
        ({"stake": "-5"}, 400, "invalid_amount"),
        ({"stake": "1e30"}, 400, "invalid_amount"),
        ({"stake": "99999999999999999999999"}, 400, "invalid_amount"),
        ({"legs": [{"outcome_id": "x"}]}, 400, "validation_error"),
        ({"legs": []}, 400, "invalid_parlay"),
        ({"accept_price_change": "sometimes"}, 400, "validation_error"),
        ({"currency": "XYZ"}, 400, "validation_error"),
        ({"stake": "6000.00"}, 409, "limit_exceeded"),
        ({"stake": "1000.01"}, 409, "insufficient_funds"),
        ({"edge_id": "f" * 40}, 404, "not_found"),  # hex, like every edge id, but no such edge
    ],
)
def test_bad_requests_are_4xx_in_the_error_shape(client, funded_user, game, change, status, code):
    funded_user.max_bet_size = Decimal("5000.00")
    funded_user.daily_bet_limit = Decimal("5000.00")
    funded_user.save()
    before = state(funded_user)
    response = post(client, {**body(game), **change})
    assert response.status_code == status, response.json()
    assert response.json()["error"]["code"] == code
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert state(funded_user) == before


def test_market_closed_self_excluded_kyc_geo_over_http(client, funded_user, game, settings):
    from edges.models import Event

    settings.GEO_DENY_LIST = ["XX"]
    settings.GEO_IP_REGIONS = {"203.0.113.0/24": "XX"}
    response = client.post(
        "/api/v1/bets/", body(game), format="json", HTTP_IDEMPOTENCY_KEY="g", REMOTE_ADDR="203.0.113.5"
    )
    assert (response.status_code, response.json()["error"]["code"]) == (403, "geo_blocked")
    settings.KYC_CHECK = "tests.betting.test_placement.deny_kyc"
    assert post(client, body(game), key="k").json()["error"]["code"] == "kyc_required"
    settings.KYC_CHECK = "betthat.users.compliance.allow_kyc"
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(seconds=5))
    response = post(client, body(game), key="m")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "market_closed")
    response = client.post("/api/v1/bets/self-exclusion/", {"days": 7}, format="json")
    assert response.status_code == 200
    response = post(client, body(game), key="s")
    assert (response.status_code, response.json()["error"]["code"]) == (403, "self_excluded")
    assert Bet.objects.count() == 0


def test_sgp_and_invalid_parlay_over_http(client, game):
    data = body(game)
    data["legs"].append({"outcome_id": game.o("over").pk, "sportsbook": "draftkings", "odds_decimal": "1.95"})
    response = post(client, data)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "sgp_not_offered")
    data["legs"][1]["outcome_id"] = game.o("away_ml").pk
    response = post(client, data, key="k2")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_parlay")


def test_unauthenticated(api_client, game):
    response = api_client.post("/api/v1/bets/", body(game), format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert response.status_code == 401
    assert api_client.get("/api/v1/bets/").status_code == 401


def test_list_filters_paginates_and_shows_only_own_bets(client, funded_user, game):
    other_game = make_game(home="Bills", away="Jets", sport="basketball_nba")
    first = place(funded_user, leg(game.o("home_ml")))
    second = place(funded_user, leg(other_game.o("over")))
    stranger = UserFactory()
    fund_user(stranger, 10000)
    theirs = place(stranger, leg(other_game.o("under")))
    event_record_result(event_id=game.event.pk, home_score=1, away_score=0)
    from betting.services import settle_due_bets

    settle_due_bets()
    data = client.get("/api/v1/bets/").json()
    assert data["count"] == 2 and [b["id"] for b in data["results"]] == [second.pk, first.pk]
    assert [b["id"] for b in client.get("/api/v1/bets/?status=open").json()["results"]] == [second.pk]
    assert [b["id"] for b in client.get("/api/v1/bets/?status=settled").json()["results"]] == [first.pk]
    assert [b["id"] for b in client.get("/api/v1/bets/?sport=basketball_nba").json()["results"]] == [
        second.pk
    ]
    page = client.get("/api/v1/bets/?page_size=1&page=2").json()
    assert page["count"] == 2 and [b["id"] for b in page["results"]] == [first.pk]
    today = timezone.now().date()
    assert client.get(f"/api/v1/bets/?date_from={today + timedelta(days=2)}").json()["count"] == 0
    assert client.get("/api/v1/bets/?status=bogus").status_code == 400
    assert client.get("/api/v1/bets/?date_from=yesterday").json()["error"]["code"] == "validation_error"
    assert client.get(f"/api/v1/bets/{first.pk}/").json()["result"] == "win"
    assert client.get(f"/api/v1/bets/{theirs.pk}/").status_code == 404
    response = client.post(f"/api/v1/bets/{theirs.pk}/cancel/")
    assert response.status_code == 404 and Bet.objects.get(pk=theirs.pk).status == "pending"


def test_cancel_over_http(client, funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")))
    response = client.post(f"/api/v1/bets/{bet.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    response = client.post(f"/api/v1/bets/{bet.pk}/cancel/")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "not_cancellable")


def test_stats(client, funded_user, game):
    place(funded_user, leg(game.o("home_ml")), stake=1000)
    place(funded_user, leg(game.o("away_ml")), stake=1000)
    event_record_result(event_id=game.event.pk, home_score=3, away_score=0)
    from betting.services import settle_due_bets

    settle_due_bets()
    data = client.get("/api/v1/bets/stats/").json()
    assert data["count"] == 2 and data["won"] == 1 and data["lost"] == 1
    assert data["profit_minor"] == 200 and data["roi"] == "0.1000" and data["win_rate"] == "0.5000"
    assert data["by_sport"]["americanfootball_nfl"]["count"] == 2
    assert data["by_sportsbook"]["draftkings"]["profit_minor"] == 200
    assert set(data["by_market_type"]) == {"moneyline"}


def test_recommendation(client, funded_user, game):
    response = client.get(
        f"/api/v1/bets/recommendation/?outcome_id={game.o('home_ml').pk}&sportsbook=draftkings"
    )
    data = response.json()
    assert response.status_code == 200
    assert Decimal(data["price_decimal"]) == Decimal("2.20") and data["price_american"] == 120
    # pinnacle 2.10 / 1.80: p(home) = (1/2.1) / (1/2.1 + 1/1.8) = 0.461538; EV = 0.015385
    assert data["fair_probability"] == "0.461538" and data["fair_odds_decimal"] == "2.1667"
    assert data["kelly_fraction"] == "0.012821"  # (0.461538 x 2.2 - 1) / 1.2
    assert data["recommended_stake"] == {"amount": "6.41", "currency": "USD"}  # 1000 x 0.012821 x 0.5
    assert data["headroom"]["stake_cap_minor"] == 100000
    assert data["available"] == {"amount": "1000.00", "currency": "USD"}
    assert (
        client.get("/api/v1/bets/recommendation/?outcome_id=999999&sportsbook=draftkings").status_code == 404
    )
    assert client.get("/api/v1/bets/recommendation/?outcome_id=abc").status_code == 400


def test_recommendation_is_capped_by_the_days_allowance(client, funded_user, game):
    set_price(game.o("home_ml"), "draftkings", "3.00")
    funded_user.daily_bet_limit = Decimal("20.00")
    funded_user.save()
    place(funded_user, leg(game.o("over")), stake=1500)
    data = client.get(
        f"/api/v1/bets/recommendation/?outcome_id={game.o('home_ml').pk}&sportsbook=draftkings"
    ).json()
    assert data["headroom"]["daily_remaining_minor"] == 500
    assert data["recommended_stake"]["amount"] == "5.00"


def test_limits_cut_now_raise_after_cooling_off(client, funded_user):
    response = client.put(
        "/api/v1/bets/limits/", {"daily_bet_limit": "100.00", "max_bet_size": "2000.00"}, format="json"
    )
    data = response.json()
    assert response.status_code == 200
    assert data["changes"] == {"daily_bet_limit": "applied", "max_bet_size": "pending"}
    funded_user.refresh_from_db()
    assert funded_user.daily_bet_limit.amount == Decimal("100.00")
    assert funded_user.max_bet_size.amount == Decimal("1000.00")
    assert data["pending"][0]["field"] == "max_bet_size"
    change = LimitChange.objects.get(user=funded_user, field="max_bet_size")
    assert change.effective_at - change.requested_at == timedelta(hours=24)
    LimitChange.objects.filter(pk=change.pk).update(effective_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/bets/limits/").json()["headroom"]["max_bet_minor"] == 200000
    assert client.put("/api/v1/bets/limits/", {"daily_bet_limit": "-1"}, format="json").status_code == 400
    assert client.post("/api/v1/bets/self-exclusion/", {"days": 0}, format="json").status_code == 400


def test_placement_response_is_what_the_output_serializer_renders(client, funded_user, game):
    from betting.api import BetOutputSerializer, bet_output
    from edges.models import OddsQuote

    other = make_game(home="Bills", away="Jets")
    over = OddsQuote.objects.get(outcome=other.o("over"), sportsbook__key="draftkings").price_decimal
    data = body(game)
    data["legs"].append(
        {"outcome_id": other.o("over").pk, "sportsbook": "draftkings", "odds_decimal": str(over)}
    )
    response = post(client, data)
    assert response.status_code == 201, response.json()
    placed = response.json()
    bet = Bet.objects.get(pk=placed["id"])
    expected = BetOutputSerializer(bet).data
    assert placed == expected
    assert list(placed) == list(expected)
    assert placed["kind"] == "parlay" and [leg["position"] for leg in placed["legs"]] == [0, 1]
    assert placed["legs"][1]["point"] == "44.50" and placed["legs"][1]["matchup"] == "Jets @ Bills"
    # a settled bet with every optional figure filled in, some negative
    now = timezone.now()
    Bet.objects.filter(pk=bet.pk).update(
        status="settled",
        result="loss",
        actual_return_minor=0,
        net_profit_minor=-1000,
        settled_at=now,
        closing_odds_decimal=Decimal("5.123456"),
        closing_fair_probability=Decimal("0.187654"),
        clv_percent=Decimal("-0.012345"),
        ev_vs_close=Decimal("-0.004321"),
        clv_captured_at=now,
        clv_note="closing line captured",
        kelly_fraction=Decimal("0.031250"),
        recommended_stake_minor=1234,
        fair_odds_decimal=Decimal("4.900000"),
    )
    bet.legs.filter(position=0).update(result="loss", closing_price_decimal=Decimal("2.150000"))
    settled = Bet.objects.get(pk=bet.pk)
    rendered = bet_output(settled)
    assert rendered == BetOutputSerializer(settled).data
    assert rendered["net_profit"] == {"amount": "-10.00", "currency": "USD"}
    assert rendered["clv"]["clv_percent"] == "-0.012345"
    assert rendered["risk"]["recommended_stake"] == {"amount": "12.34", "currency": "USD"}
    assert rendered["legs"][0]["closing_price_decimal"] == "2.150000"


def test_a_placement_over_http_takes_a_pinned_number_of_queries(client, funded_user, game):
    """A regression guard: the queries of one placement over the API (inside the test's
    transaction, so BEGIN and COMMIT are not among them). If this number grows, a round trip
    was added to the hot path: look at the list in the failure message."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert post(client, body(game), key="warm-up").status_code == 201
    with CaptureQueriesContext(connection) as captured:
        response = post(client, body(game, stake="2.00"), key="pinned")
    assert response.status_code == 201, response.json()
    statements = [query["sql"] for query in captured.captured_queries]
    listing = "\n".join(statement[:120] for statement in statements)
    assert len(statements) <= PLACEMENT_QUERIES_MAX, f"{len(statements)} queries:\n{listing}"
    # Every statement is one of these, each as many times as given (the stake hold's own
    # statements belong to the wallet and may change there, within the total above).
    expected = {
        # the warm-up filled the Redis token cache (betthat/users/token_cache.py)
        "token and user": (lambda sql: "authtoken_token" in sql, 0),
        # a new key is looked up only if the placement is refused
        "idempotency key lookup": (
            lambda sql: "idempotency_key" in sql and "betting_bet_reserve" not in sql,
            0,
        ),
        "outcomes with market, event, sport, quote age": (lambda sql: "edges_outcome" in sql, 1),
        "the reservation: locks, limits, bet, legs, hold, outbox": (
            lambda sql: "betting_bet_reserve(" in sql,
            1,
        ),
        "filled: status, ticket and bet.placed": (
            lambda sql: "UPDATE betting_bet SET status = 'pending'" in sql and "bet.placed" in sql,
            1,
        ),
        "savepoints of the two statements inside the test's transaction": (
            lambda sql: "SAVEPOINT" in sql,
            4,
        ),
    }
    for name, (match, count) in expected.items():
        assert sum(bool(match(sql)) for sql in statements) == count, f"{name}:\n{listing}"
    assert sum(count for _match, count in expected.values()) == len(statements), listing


def test_legs_are_capped_in_the_serializer_before_any_work(client, funded_user, game):
    """13 legs (or 10,000) are refused by the input serializer: 400 in the error shape,
    naming `legs`, without a single outcome read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    games = [make_game(home=f"H{i}", away=f"A{i}") for i in range(13)]
    legs = [
        {"outcome_id": g.o("home_ml").pk, "sportsbook": "draftkings", "odds_decimal": "2.20"} for g in games
    ]
    for count in (13, 10_000):
        with CaptureQueriesContext(connection) as captured:
            response = post(client, {**body(game), "legs": (legs * 800)[:count]}, key=f"legs-{count}")
        assert response.status_code == 400, response.json()
        error = response.json()["error"]
        assert error["code"] == "validation_error" and "legs" in error["details"]
        assert not [q for q in captured.captured_queries if "edges_outcome" in q["sql"]]
    assert Bet.objects.count() == 0


def test_the_geo_check_reads_the_client_address_never_a_region_header(client, funded_user, game, settings):
    """Issue 18 item 11: the region came from `X-Geo-Region`, which the client writes."""
    settings.GEO_DENY_LIST = ["XX"]
    settings.GEO_IP_REGIONS = {"203.0.113.0/24": "XX", "198.51.100.0/24": "GB"}
    before = state(funded_user)
    blocked = client.post(
        "/api/v1/bets/",
        body(game),
        format="json",
        HTTP_IDEMPOTENCY_KEY="from-xx",
        HTTP_X_GEO_REGION="GB",  # claims an allowed region from a denied address
        REMOTE_ADDR="203.0.113.5",
    )
    assert (blocked.status_code, blocked.json()["error"]["code"]) == (403, "geo_blocked")
    assert state(funded_user) == before
    allowed = client.post(
        "/api/v1/bets/",
        body(game),
        format="json",
        HTTP_IDEMPOTENCY_KEY="from-gb",
        HTTP_X_GEO_REGION="XX",  # a header naming a denied region does not decide either
        REMOTE_ADDR="198.51.100.7",
    )
    assert allowed.status_code == 201, allowed.json()


def test_a_price_of_2_125_is_plus_113_on_the_quote_the_recommendation_and_the_bet(client, game):
    set_price(game.o("home_ml"), "draftkings", "2.125")
    recommendation = client.get(
        f"/api/v1/bets/recommendation/?outcome_id={game.o('home_ml').pk}&sportsbook=draftkings"
    ).json()
    assert recommendation["price_american"] == 113
    response = post(client, body(game, price="2.125"), key="tie-113")
    assert response.status_code == 201, response.json()
    assert (response.json()["odds_decimal"], response.json()["odds_american"]) == ("2.125000", 113)
    detail = client.get(f"/api/v1/bets/{response.json()['id']}/").json()
    assert detail["odds_american"] == 113
