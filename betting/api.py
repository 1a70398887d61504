"""REST endpoints of the betting app: one APIView per operation, nested serializers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from betthat.core.client_ip import client_ip
from betthat.core.errors import ApplicationError
from betthat.core.renderers import CsvExportApiView
from betthat.core.schema import paginated
from betthat.core.serializers import FieldsBuiltOnceSerializer, MoneyOutputSerializer, minor_to_decimal
from betthat.users.reauth import require_recent_authentication
from betting import exports, selectors, services
from wallet.idempotency import idempotent_response
from wallet.money import parse_amount

# Database ids are bigints: a larger number is no id (a 4xx, never a database error).
MAX_ID = 2**63 - 1
IDEMPOTENCY_KEY_MAX = 100


def decimals_as_strings(value):
    """Decimals in JSON are strings (exact), as the serializers render them."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: decimals_as_strings(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [decimals_as_strings(item) for item in value]
    return value


def money(minor: int | None, currency: str) -> dict | None:
    return None if minor is None else {"amount": minor_to_decimal(minor), "currency": currency}


class BetLegOutputSerializer(FieldsBuiltOnceSerializer):
    position = serializers.IntegerField()
    event_id = serializers.IntegerField()
    market_id = serializers.IntegerField()
    outcome_id = serializers.IntegerField()
    leg_type = serializers.CharField()
    market_key = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField()
    player = serializers.SerializerMethodField()
    matchup = serializers.SerializerMethodField()
    point = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    price_decimal = serializers.DecimalField(max_digits=12, decimal_places=6)
    result = serializers.CharField()
    closing_price_decimal = serializers.DecimalField(max_digits=12, decimal_places=6, allow_null=True)

    def get_market_key(self, leg) -> str:
        return leg.attributes.get("market_key", "")

    def get_outcome(self, leg) -> str:
        return leg.attributes.get("outcome_name", "")

    def get_player(self, leg) -> str:
        return leg.attributes.get("player", "")

    def get_matchup(self, leg) -> str:
        return leg.attributes.get("matchup", "")


class BetOutputSerializer(FieldsBuiltOnceSerializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    result = serializers.CharField()
    market_type = serializers.CharField()
    sport_key = serializers.CharField()
    sportsbook = serializers.CharField(source="sportsbook_id")
    event_id = serializers.IntegerField(allow_null=True)
    edge_id = serializers.CharField()
    stake = MoneyOutputSerializer()
    odds_decimal = serializers.DecimalField(max_digits=18, decimal_places=6)
    odds_american = serializers.IntegerField()
    potential_return = MoneyOutputSerializer()
    actual_return = MoneyOutputSerializer(allow_null=True)
    net_profit = MoneyOutputSerializer(allow_null=True)
    external_id = serializers.CharField()
    placed_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    settlement_note = serializers.CharField()
    clv = serializers.SerializerMethodField()
    risk = serializers.SerializerMethodField()
    edge = serializers.SerializerMethodField()
    legs = serializers.SerializerMethodField()

    def get_clv(self, bet) -> dict:
        return {
            "has_closing_line": bet.has_closing_line,
            "closing_odds_decimal": None
            if bet.closing_odds_decimal is None
            else str(bet.closing_odds_decimal),
            "closing_fair_probability": None
            if bet.closing_fair_probability is None
            else str(bet.closing_fair_probability),
            "clv_percent": None if bet.clv_percent is None else str(bet.clv_percent),
            "ev_vs_close": None if bet.ev_vs_close is None else str(bet.ev_vs_close),
            "captured_at": bet.clv_captured_at,
            "note": bet.clv_note,
        }

    def get_legs(self, bet) -> list[dict]:
        legs = getattr(bet, "placed_legs", None)
        # many=True builds a ListSerializer whose data is a list (the stubs type it as a dict)
        return BetLegOutputSerializer(  # type: ignore[return-value]
            legs if legs is not None else bet.legs.all(), many=True
        ).data

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "description": "The edge the bet was placed from, as it stood at placement (kind, prices, "
            "fair price, EV, edge %, Kelly, legs); null when it was not placed from an edge.",
        }
    )
    def get_edge(self, bet) -> dict | None:
        return bet.edge_snapshot or None

    def get_risk(self, bet) -> dict:
        return {
            "kelly_fraction": None if bet.kelly_fraction is None else str(bet.kelly_fraction),
            "recommended_stake": money(bet.recommended_stake_minor, bet.currency),
            "fair_odds_decimal": None if bet.fair_odds_decimal is None else str(bet.fair_odds_decimal),
            "limits_in_force": bet.limits_in_force,
        }


def bet_output(bet: Any) -> dict[str, Any]:
    """The one rendering of a bet: what the schema documents (BetOutputSerializer)."""
    return dict(BetOutputSerializer(bet).data)


class BetFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["", *selectors.STATUS_FILTERS], required=False, default="")
    sport = serializers.CharField(required=False, default="", max_length=60)
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)


class BetPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="A unique key per intended bet; a retry with the same key replays the first response.",
)


class BetListPlaceApi(APIView):
    """GET: the user's bets (filters `status`, `sport`, `date_from`, `date_to`; paginated).
    POST: place a bet (`Idempotency-Key` required)."""

    FilterSerializer = BetFilterSerializer

    class InputSerializer(FieldsBuiltOnceSerializer):
        class LegSerializer(serializers.Serializer):
            outcome_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
            sportsbook = serializers.CharField(max_length=40)
            odds_decimal = serializers.DecimalField(
                max_digits=12, decimal_places=6, min_value=Decimal("1.000001")
            )

        # DRF passes max_length on to the ListSerializer many=True builds; the stubs' __init__
        # does not list it.
        legs = LegSerializer(many=True, allow_empty=True, max_length=settings.BETTING_MAX_LEGS)  # type: ignore[call-arg]
        stake = serializers.CharField(max_length=24)
        currency = serializers.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
        accept_price_change = serializers.ChoiceField(choices=["none", "better", "any"], default="none")
        # an edge's stable id: 1 to 64 lowercase hex digits (anything else never reaches placement)
        edge_id = serializers.CharField(
            max_length=64,
            required=False,
            allow_blank=True,
            default="",
            validators=[RegexValidator(r"^[0-9a-f]{1,64}$", message="Not an edge id (1 to 64 hex digits).")],
        )

    @extend_schema(
        operation_id="v1_bets_list",
        parameters=[FilterSerializer],
        responses=paginated("PaginatedBetList", BetOutputSerializer(many=True)),
    )
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        queryset = selectors.bet_list_for_user(
            user=request.user, filters=selectors.BetFilters(**params.validated_data)
        )
        paginator = BetPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(BetOutputSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: BetOutputSerializer},
        parameters=[IDEMPOTENCY_KEY],
        description="Place a straight bet or a parlay. Errors: price_changed, stale_price, market_closed, "
        "limit_exceeded, max_payout_exceeded, max_price_exceeded, insufficient_funds, self_excluded, "
        "verification_required, kyc_required, geo_blocked, invalid_parlay, sgp_not_offered, "
        "venue_rejected, venue_unavailable (503), idempotency_conflict.",
    )
    def post(self, request):
        # The bet row carries the Idempotency-Key (unique per user): a retry finds the bet and
        # replays it. No transaction wraps the placement, because the venue must be called
        # with no lock held (bet_place commits the reservation before it calls the venue).
        # The key is looked up only when bet_place refuses: a key already used never places a
        # second bet (the reservation refuses it under the wallet lock, and the unique index
        # backs that up), and every refusal of a retry gives way to the first answer. A new
        # key, nearly every request, costs no lookup.
        key = _idempotency_key(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        legs = [
            services.LegRequest(leg["outcome_id"], leg["sportsbook"], leg["odds_decimal"])
            for leg in values["legs"]
        ]
        stake_minor = parse_amount(values["stake"])
        currency = values["currency"].upper()
        try:
            bet = services.bet_place(
                user=request.user,
                legs=legs,
                stake_minor=stake_minor,
                currency=currency,
                accept_price_change=values["accept_price_change"],
                edge_id=values["edge_id"],
                idempotency_key=key,
                client_ip=client_ip(request),
            )
        except ApplicationError:
            replay = _replay(request.user, key, legs=legs, stake_minor=stake_minor, currency=currency)
            if replay is None:
                raise
            return replay
        return Response(bet_output(bet), status=status.HTTP_201_CREATED)


def _idempotency_key(request) -> str:
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key:
        raise ApplicationError(
            "This request needs an Idempotency-Key header.", code="idempotency_key_required", status=400
        )
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise ApplicationError(
            f"The Idempotency-Key is longer than {IDEMPOTENCY_KEY_MAX} characters.",
            code="validation_error",
            details={"Idempotency-Key": [f"At most {IDEMPOTENCY_KEY_MAX} characters."]},
        )
    return key


def _replay(user, key: str, *, legs, stake_minor: int, currency: str) -> Response | None:
    """The first answer for this key, if a bet was placed with it: the same bet again, or
    409 when the key was used for a different bet (or that bet is still being placed)."""
    bet = selectors.bet_get_by_idempotency_key(user=user, key=key)
    if bet is None:
        return None
    same = (
        bet.stake_minor == stake_minor
        and bet.currency == currency
        and [(leg.outcome_id, bet.sportsbook_id) for leg in bet.legs.all()]
        == [(leg.outcome_id, leg.sportsbook) for leg in legs]
    )
    if not same:
        raise ApplicationError(
            "This Idempotency-Key was already used with a different request.",
            code="idempotency_conflict",
            status=409,
            details={"bet_id": bet.pk},
        )
    if bet.status == bet.Status.PLACING:
        raise ApplicationError(
            "This bet is still being placed; retry in a moment.",
            code="idempotency_conflict",
            status=409,
            details={"bet_id": bet.pk},
        )
    return Response(bet_output(bet), status=status.HTTP_201_CREATED, headers={"Idempotent-Replayed": "true"})


class BetExportApi(CsvExportApiView):
    """The user's bets as CSV (same filters as the list), streamed."""

    @extend_schema(
        operation_id="v1_bets_export",
        parameters=[BetFilterSerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="CSV of the user's bets, newest first, with the same figures as the bets list.",
    )
    def get(self, request):
        params = BetFilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        return exports.bets_csv_response(
            user=request.user, filters=selectors.BetFilters(**params.validated_data)
        )


class BetDetailApi(APIView):
    @extend_schema(responses=BetOutputSerializer)
    def get(self, request, bet_id: int):
        return Response(
            BetOutputSerializer(selectors.bet_get_for_user(user=request.user, bet_id=bet_id)).data
        )


class BetCancelApi(APIView):
    @extend_schema(request=None, responses=BetOutputSerializer)
    def post(self, request, bet_id: int):
        services.bet_cancel(user=request.user, bet_id=bet_id)
        return Response(
            BetOutputSerializer(selectors.bet_get_for_user(user=request.user, bet_id=bet_id)).data
        )


class BetStatsApi(APIView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        description="Count, pending, won/lost/pushed, staked, profit, ROI, win rate, average odds, "
        "average CLV and share beating the close, overall and by sport, sportsbook, market type and month.",
    )
    def get(self, request):
        return Response(decimals_as_strings(selectors.get_user_bet_statistics(user=request.user)))


class BetRecommendationApi(APIView):
    """The slip's numbers for one outcome at one book: price, fair price, Kelly stake,
    limit headroom."""

    class InputSerializer(serializers.Serializer):
        outcome_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
        sportsbook = serializers.CharField(max_length=40)
        currency = serializers.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)

    @extend_schema(parameters=[InputSerializer], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        values = params.validated_data
        data = selectors.bet_recommendation(
            user=request.user,
            outcome_id=values["outcome_id"],
            sportsbook=values["sportsbook"],
            currency=values["currency"].upper(),
        )
        data["recommended_stake"] = money(data.pop("recommended_stake_minor"), data["currency"])
        data["available"] = money(data.pop("available_minor"), data["currency"])
        return Response(decimals_as_strings(data))


class LimitsApi(APIView):
    """GET the limits, headroom and pending raises; PUT new limits (cuts apply at once,
    raises after 24 hours)."""

    class InputSerializer(serializers.Serializer):
        max_bet_size = serializers.DecimalField(
            max_digits=14, decimal_places=2, min_value=Decimal("0.01"), required=False
        )
        daily_bet_limit = serializers.DecimalField(
            max_digits=14, decimal_places=2, min_value=Decimal("0.01"), required=False
        )
        monthly_bet_limit = serializers.DecimalField(
            max_digits=14, decimal_places=2, min_value=Decimal("0.01"), required=False
        )

    def _body(self, user) -> dict:
        services.limit_changes_apply_due(user=user)
        headroom = services.limit_headroom(user=user, currency=str(user.max_bet_size.currency))
        return {
            "headroom": headroom.as_dict(),
            "self_excluded_until": user.self_excluded_until,
            "pending": [
                {
                    "field": c.field,
                    "amount": money(c.amount_minor, c.currency),
                    "effective_at": c.effective_at,
                }
                for c in selectors.limit_changes_pending_for_user(user=user)
            ],
        }

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(self._body(request.user))

    @extend_schema(request=InputSerializer, responses=OpenApiTypes.OBJECT)
    def put(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not data.validated_data:
            raise ApplicationError("Give at least one limit.", code="validation_error")
        changes = services.user_limits_update(
            user=request.user, limits={k: parse_amount(v) for k, v in data.validated_data.items()}
        )
        return Response({"changes": changes, **self._body(request.user)})


class SelfExclusionApi(APIView):
    class InputSerializer(serializers.Serializer):
        days = serializers.IntegerField(min_value=1, max_value=365 * 5)

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer("SelfExclusion", {"self_excluded_until": serializers.DateTimeField()}),
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_self_exclude(user=request.user, days=data.validated_data["days"])
        return Response({"self_excluded_until": user.self_excluded_until})


class AccountCloseApi(APIView):
    """Close one's own account: refused while a bet is open or money is held; the balance is
    paid out through the payment provider first (202 `payout_pending`), then the account is
    deactivated (200 `closed`). A browser session must have re-authenticated recently."""

    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["closed", "payout_pending"])
        payouts = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        request=None,
        responses={200: OutputSerializer, 202: OutputSerializer},
        parameters=[
            OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)
        ],
    )
    def post(self, request):
        require_recent_authentication(request)
        key = request.headers.get("Idempotency-Key", "").strip()[:200]

        def handler() -> Response:
            result = services.account_close(user=request.user, idempotency_key=key)
            payouts = [
                {
                    "payment_id": payment.pk,
                    "amount": minor_to_decimal(payment.amount_minor),
                    "currency": payment.currency,
                    "status": payment.status,
                }
                for payment in result.payouts
            ]
            code = status.HTTP_200_OK if result.status == "closed" else status.HTTP_202_ACCEPTED
            return Response({"status": result.status, "payouts": payouts}, status=code)

        # A retry replays the first answer; the payouts carry keys derived from this one.
        return idempotent_response(request, scope="account.close", handler=handler, calls_provider=True)


__all__ = [
    "AccountCloseApi",
    "BetCancelApi",
    "BetDetailApi",
    "BetExportApi",
    "BetListPlaceApi",
    "BetRecommendationApi",
    "BetStatsApi",
    "LimitsApi",
    "SelfExclusionApi",
    "bet_output",
    "money",
]
