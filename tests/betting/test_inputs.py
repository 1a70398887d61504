"""No 500 on any input in the betting pages and API: query strings, path parameters,
bodies and stored preferences answer a 4xx in the error shape (or work)."""

from decimal import Decimal

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from betthat.core.errors import ApplicationError
from betting.api import BetListPlaceApi
from tests.betting.helpers import leg, place
from wallet.money import parse_amount

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


# --- the bet-input serializer: any input is valid or a 4xx, never an exception -------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["1.5", "2.20", "10.00", "-1", "1e30", "NaN", "٣", "0x10", HUGE, "", " "]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
legs = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "outcome_id": json_values | st.integers(min_value=-(2**70), max_value=2**70),
            "sportsbook": json_values,
            "odds_decimal": json_values,
        },
    ),
    max_size=20,
)
bodies = (
    st.fixed_dictionaries(
        {},
        optional={
            "legs": legs | json_values,
            "stake": json_values,
            "currency": json_values,
            "accept_price_change": json_values,
            "edge_id": json_values,
        },
    )
    | json_values
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_the_bet_input_serializer_never_raises(body):
    serializer = BetListPlaceApi.InputSerializer(data=body)
    if not serializer.is_valid():
        assert serializer.errors
        return
    values = serializer.validated_data
    assert len(values["legs"]) <= 12
    assert all(0 < leg["outcome_id"] < 2**63 for leg in values["legs"])
    try:
        assert parse_amount(values["stake"]) > 0
    except ApplicationError as error:
        assert error.status == 400 and error.code == "invalid_amount"


def _json_safe(value):
    """JSON has no NaN or infinity: what a client can actually send."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    return value


@pytest.mark.parametrize("outcome_id", [2**63, 2**70, -(2**63) - 1, HUGE])
def test_an_outcome_id_beyond_any_id_is_a_400(outcome_id, funded_user, game, token_client_for):
    client = token_client_for(funded_user)
    client.raise_request_exception = False
    body = {
        "legs": [{"outcome_id": outcome_id, "sportsbook": "draftkings", "odds_decimal": "2.2"}],
        "stake": "1",
    }
    response = client.post("/api/v1/bets/", body, format="json", HTTP_IDEMPOTENCY_KEY="huge")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("edge_id", ["<script>alert(1)</script>", "ABCDEF", "g" * 10, "a" * 65, "12 34"])
def test_an_edge_id_that_is_not_hex_is_a_400_that_does_not_echo_it(
    edge_id, funded_user, game, token_client_for
):
    """An edge id is 1 to 64 lowercase hex digits; anything else is refused before placement
    (which would echo it in a "No edge ..." message)."""
    client = token_client_for(funded_user)
    client.raise_request_exception = False
    outcome = game.o("home_ml")
    body = {
        "legs": [{"outcome_id": outcome.pk, "sportsbook": "draftkings", "odds_decimal": "2.2"}],
        "stake": "1",
        "edge_id": edge_id,
    }
    response = client.post("/api/v1/bets/", body, format="json", HTTP_IDEMPOTENCY_KEY=f"edge-{len(edge_id)}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "edge_id" in error["details"]
    assert edge_id not in response.content.decode()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies.map(_json_safe))
def test_posting_any_body_is_never_a_server_error(body, funded_user, token_client_for):
    client = token_client_for(funded_user)
    client.raise_request_exception = False
    response = client.post("/api/v1/bets/", body, format="json", HTTP_IDEMPOTENCY_KEY="fuzz")
    assert response.status_code < 500
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}


# --- query strings and path parameters -------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/bets/{HUGE}/",
        f"/api/v1/bets/recommendation/?outcome_id={HUGE}&sportsbook=draftkings",
        "/api/v1/bets/recommendation/?outcome_id=1&sportsbook=draftkings&currency=%E2%82%AC",
        "/api/v1/bets/?date_from=0001-01-01&date_to=9999-12-31",
        "/api/v1/bets/?status=nonsense",
        "/api/v1/bets/?page=abc&page_size=-3",
        "/api/v1/bets/export/?date_from=0001-01-01&date_to=9999-12-31",
    ],
)
@pytest.mark.parametrize("zone", ["Asia/Tokyo", "Pacific/Pago_Pago"])
def test_api_query_strings_and_paths_are_never_a_server_error(path, zone, funded_user, token_client_for):
    funded_user.timezone = zone
    funded_user.save()
    client = token_client_for(funded_user)
    client.raise_request_exception = False
    response = client.get(path)
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}


def test_cancelling_a_bet_id_beyond_any_id_is_a_404(funded_user, token_client_for):
    client = token_client_for(funded_user)
    client.raise_request_exception = False
    response = client.post(f"/api/v1/bets/{HUGE}/cancel/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "query",
    [
        f"outcome_id={HUGE}&sportsbook=draftkings",
        "outcome_id=%D9%A3&sportsbook=draftkings",  # an Arabic-Indic digit
        "outcome_id=-1&sportsbook=draftkings",
        "edge_id=" + "x" * 500,
        "outcome_id=1&sportsbook=" + "b" * 500,
        "&".join(["outcome_id=1"] * 50) + "&sportsbook=draftkings",
    ],
)
def test_the_slip_never_answers_a_server_error(query, funded_user):
    browser = Client(raise_request_exception=False)
    browser.force_login(funded_user)
    assert browser.get(f"/bets/slip/?{query}").status_code in (200, 404)


@pytest.mark.parametrize(
    "query",
    ["date_from=0001-01-01&date_to=9999-12-31", "status=%00", "sport=" + "s" * 200, "date_from=%E2%82%AC"],
)
def test_my_bets_never_answers_a_server_error(query, funded_user):
    funded_user.timezone = "Asia/Tokyo"
    funded_user.save()
    browser = Client(raise_request_exception=False)
    browser.force_login(funded_user)
    assert browser.get(f"/bets/?{query}").status_code < 500
    assert browser.get(f"/bets/export.csv?{query}").status_code < 500


def test_malformed_pricing_preferences_do_not_break_the_slip(funded_user, game, token_client_for):
    funded_user.preferences = {"pricing": "sharp please"}
    funded_user.save()
    client = token_client_for(funded_user)
    client.raise_request_exception = False
    response = client.get(
        f"/api/v1/bets/recommendation/?outcome_id={game.o('home_ml').pk}&sportsbook=draftkings"
    )
    assert response.status_code == 200 and response.json()["price_decimal"] == "2.200000"


def test_a_placed_bet_is_still_fine_after_all_that(funded_user, game):
    assert place(funded_user, leg(game.o("home_ml"))).odds_decimal == Decimal("2.20")
