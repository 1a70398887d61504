"""REST endpoints of the betting app: one APIView per operation, nested serializers."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from betthat.core.errors import ApplicationError
from betthat.core.schema import paginated
from betthat.core.serializers import MoneyOutputSerializer, minor_to_decimal
from betting import selectors, services
from wallet.idempotency import idempotent_response
from wallet.money import parse_amount


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


class BetLegOutputSerializer(serializers.Serializer):
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


class BetOutputSerializer(serializers.Serializer):
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
        return BetLegOutputSerializer(legs if legs is not None else bet.legs.all(), many=True).data

    def get_risk(self, bet) -> dict:
        return {
            "kelly_fraction": None if bet.kelly_fraction is None else str(bet.kelly_fraction),
            "recommended_stake": money(bet.recommended_stake_minor, bet.currency),
            "fair_odds_decimal": None if bet.fair_odds_decimal is None else str(bet.fair_odds_decimal),
            "limits_in_force": bet.limits_in_force,
        }


# `bet_output` renders exactly what `BetOutputSerializer(bet).data` renders (a test pins it),
# without building the serializer's ~40 fields per call: a placement's response is on the
# hot path (about 8% of a placement's CPU went into the serializer). The fields below are
# used only for their formatting, so the numbers and times are rendered by the same code.
_ODDS = serializers.DecimalField(max_digits=18, decimal_places=6)
_LEG_PRICE = serializers.DecimalField(max_digits=12, decimal_places=6)
_POINT = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
_AMOUNT = serializers.DecimalField(max_digits=18, decimal_places=2)
_TIME = serializers.DateTimeField()


def _money_output(value) -> dict | None:
    if value is None:
        return None
    return {"amount": _AMOUNT.to_representation(value.amount), "currency": str(value.currency)}


def _decimal_or_none(field: serializers.DecimalField, value) -> str | None:
    return None if value is None else field.to_representation(value)


def _time_or_none(value) -> str | None:
    return None if value is None else _TIME.to_representation(value)


def leg_output(leg) -> dict:
    attributes = leg.attributes
    return {
        "position": leg.position,
        "event_id": leg.event_id,
        "market_id": leg.market_id,
        "outcome_id": leg.outcome_id,
        "leg_type": str(leg.leg_type),
        "market_key": attributes.get("market_key", ""),
        "outcome": attributes.get("outcome_name", ""),
        "player": attributes.get("player", ""),
        "matchup": attributes.get("matchup", ""),
        "point": _decimal_or_none(_POINT, leg.point),
        "price_decimal": _LEG_PRICE.to_representation(leg.price_decimal),
        "result": str(leg.result),
        "closing_price_decimal": _decimal_or_none(_LEG_PRICE, leg.closing_price_decimal),
    }


def bet_output(bet) -> dict:
    """`BetOutputSerializer(bet).data`, built directly (see above)."""
    legs = getattr(bet, "placed_legs", None)
    serializer = BetOutputSerializer()
    return {
        "id": bet.id,
        "kind": str(bet.kind),
        "status": str(bet.status),
        "result": str(bet.result),
        "market_type": str(bet.market_type),
        "sport_key": str(bet.sport_key),
        "sportsbook": str(bet.sportsbook_id),
        "event_id": bet.event_id,
        "edge_id": str(bet.edge_id),
        "stake": _money_output(bet.stake),
        "odds_decimal": _ODDS.to_representation(bet.odds_decimal),
        "odds_american": int(bet.odds_american),
        "potential_return": _money_output(bet.potential_return),
        "actual_return": _money_output(bet.actual_return),
        "net_profit": _money_output(bet.net_profit),
        "external_id": str(bet.external_id),
        "placed_at": _time_or_none(bet.placed_at),
        "settled_at": _time_or_none(bet.settled_at),
        "cancelled_at": _time_or_none(bet.cancelled_at),
        "settlement_note": str(bet.settlement_note),
        "clv": serializer.get_clv(bet),
        "risk": serializer.get_risk(bet),
        "legs": [leg_output(leg) for leg in (legs if legs is not None else bet.legs.all())],
    }


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
GEO_REGION = OpenApiParameter(
    "X-Geo-Region", str, OpenApiParameter.HEADER, required=False, description="Region for the geo check."
)


class BetListPlaceApi(APIView):
    """GET: the user's bets (filters `status`, `sport`, `date_from`, `date_to`; paginated).
    POST: place a bet (`Idempotency-Key` required)."""

    class FilterSerializer(serializers.Serializer):
        status = serializers.CharField(required=False, default="")
        sport = serializers.CharField(required=False, default="")
        date_from = serializers.DateField(required=False, allow_null=True, default=None)
        date_to = serializers.DateField(required=False, allow_null=True, default=None)

    class InputSerializer(serializers.Serializer):
        class LegSerializer(serializers.Serializer):
            outcome_id = serializers.IntegerField(min_value=1)
            sportsbook = serializers.CharField(max_length=40)
            odds_decimal = serializers.DecimalField(
                max_digits=12, decimal_places=6, min_value=Decimal("1.000001")
            )

        legs = LegSerializer(many=True, allow_empty=True)
        stake = serializers.CharField(max_length=24)
        currency = serializers.CharField(max_length=3, default=settings.DEFAULT_CURRENCY)
        accept_price_change = serializers.ChoiceField(choices=["none", "better", "any"], default="none")
        edge_id = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")

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
        parameters=[IDEMPOTENCY_KEY, GEO_REGION],
        description="Place a straight bet or a parlay. Errors: price_changed, market_closed, limit_exceeded, "
        "insufficient_funds, self_excluded, kyc_required, geo_blocked, invalid_parlay, sgp_not_offered, "
        "idempotency_conflict.",
    )
    def post(self, request):
        def handler() -> Response:
            data = self.InputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
            bet = services.bet_place(
                user=request.user,
                legs=[
                    services.LegRequest(leg["outcome_id"], leg["sportsbook"], leg["odds_decimal"])
                    for leg in values["legs"]
                ],
                stake_minor=parse_amount(values["stake"]),
                currency=values["currency"].upper(),
                accept_price_change=values["accept_price_change"],
                edge_id=values["edge_id"],
                idempotency_key=request.headers.get("Idempotency-Key", "")[:100],
                region=request.headers.get("X-Geo-Region", ""),
                savepoint=False,  # idempotent_response's transaction rolls back on any refusal
            )
            return Response(bet_output(bet), status=status.HTTP_201_CREATED)

        return idempotent_response(request, scope="bet_place", handler=handler)


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
        outcome_id = serializers.IntegerField(min_value=1)
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
            user=request.user, limits={k: int(v * 100) for k, v in data.validated_data.items()}
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


__all__ = [
    "BetCancelApi",
    "BetDetailApi",
    "BetListPlaceApi",
    "BetRecommendationApi",
    "BetStatsApi",
    "LimitsApi",
    "SelfExclusionApi",
    "bet_output",
    "money",
]
