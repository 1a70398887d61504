"""REST endpoints of the edges app: one APIView per operation, nested serializers."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from betthat.core.errors import ApplicationError, NotFound
from betthat.core.schema import paginated, query_parameters
from betthat.core.serializers import minor_to_decimal
from edges import pricing, realtime, selectors
from edges.bankroll import viewer_sizing_for
from edges.forms import EdgeFilterForm
from edges.models import Edge, Event


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except Http404 as error:
            raise NotFound(
                "That page does not exist.", details={"page": request.query_params.get("page")}
            ) from error


def _validation_error(errors) -> ApplicationError:
    return ApplicationError("The request is not valid.", code="validation_error", status=400, details=errors)


class QuoteOutputSerializer(serializers.Serializer):
    """A book's current quote of an outcome."""

    sportsbook = serializers.CharField(source="sportsbook.key")
    price_decimal = serializers.DecimalField(max_digits=12, decimal_places=6)
    price_american = serializers.IntegerField()
    point = serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True)
    last_update = serializers.DateTimeField()
    version = serializers.IntegerField()
    is_suspended = serializers.BooleanField()


class OutcomeBoardOutputSerializer(serializers.Serializer):
    """One row of `selectors.MarketBoard.rows`: an outcome, its quotes by book, best and fair."""

    id = serializers.IntegerField(source="outcome.pk")
    name = serializers.CharField(source="outcome.name")
    point = serializers.DecimalField(source="outcome.point", max_digits=8, decimal_places=2, allow_null=True)
    best_sportsbook = serializers.CharField(source="best_book", allow_null=True)
    best_price_decimal = serializers.DecimalField(
        source="best_price", max_digits=12, decimal_places=6, allow_null=True
    )
    fair_probability = serializers.FloatField(allow_null=True)
    fair_odds_decimal = serializers.SerializerMethodField()
    quotes = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.FLOAT)
    def get_fair_odds_decimal(self, row: dict[str, Any]) -> float | None:
        return None if row["fair_odds"] is None else round(row["fair_odds"], 6)

    @extend_schema_field(QuoteOutputSerializer(many=True))
    def get_quotes(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        quotes = [quote for _book, quote in sorted(row["quotes"].items())]
        # many=True builds a ListSerializer whose data is a list (the stubs type it as a dict)
        return QuoteOutputSerializer(quotes, many=True).data  # type: ignore[return-value]


class MarketBoardOutputSerializer(serializers.Serializer):
    """A `selectors.MarketBoard`: one market's grid, priced with the viewer's method."""

    id = serializers.IntegerField(source="market.pk")
    key = serializers.CharField(source="market.key")
    player = serializers.CharField(source="market.player")
    period = serializers.CharField(source="market.period")
    point = serializers.DecimalField(source="market.point", max_digits=8, decimal_places=2, allow_null=True)
    is_suspended = serializers.BooleanField(source="market.is_suspended")
    devig_method = serializers.CharField(source="method")
    reference = serializers.CharField()
    outcomes = OutcomeBoardOutputSerializer(source="rows", many=True)


class EdgeSchema(serializers.Serializer):
    edge_id = serializers.CharField()
    kind = serializers.ChoiceField(choices=Edge.Kind.choices)
    status = serializers.ChoiceField(choices=Edge.Status.choices)
    version = serializers.IntegerField()
    sport_key = serializers.CharField()
    event_id = serializers.IntegerField()
    market_id = serializers.IntegerField()
    outcome_id = serializers.IntegerField(allow_null=True)
    market_type = serializers.CharField()
    player = serializers.CharField()
    line = serializers.FloatField(allow_null=True)
    side = serializers.CharField()
    sportsbook = serializers.CharField(allow_null=True)
    sportsbook_title = serializers.CharField(allow_null=True)
    best_odds_american = serializers.IntegerField()
    best_odds_decimal = serializers.DecimalField(max_digits=10, decimal_places=4)
    fair_probability = serializers.FloatField(allow_null=True)
    fair_odds_decimal = serializers.DecimalField(max_digits=10, decimal_places=4, allow_null=True)
    edge_percentage = serializers.FloatField()
    expected_value_per_dollar = serializers.FloatField()
    kelly_fraction = serializers.FloatField()
    devig_method = serializers.CharField()
    reference = serializers.CharField()
    confidence = serializers.FloatField()
    books_in_consensus = serializers.IntegerField()
    reference_age_seconds = serializers.FloatField(allow_null=True)
    legs = serializers.ListField(child=serializers.DictField())
    middle_window = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    # DRF's metaclass moves declared fields off the class, so this does not shadow
    # Field.context at run time; the stubs cannot know that.
    context = serializers.DictField()  # type: ignore[assignment]
    matchup = serializers.CharField()
    commence_time = serializers.DateTimeField()
    oldest_quote_at = serializers.DateTimeField()
    discovered_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    recommended_stake = inline_serializer(
        name="RecommendedStake",
        fields={
            "amount": serializers.DecimalField(max_digits=14, decimal_places=2),
            "currency": serializers.CharField(),
        },
    )
    quote_age_seconds = serializers.FloatField()


class EdgeDetailSchema(EdgeSchema):
    stake_split_per_100 = inline_serializer(
        name="ArbitrageStakeSplit",
        fields={
            "stakes": serializers.ListField(child=serializers.DecimalField(max_digits=14, decimal_places=2)),
            "guaranteed_payout": serializers.DecimalField(max_digits=14, decimal_places=2),
            "guaranteed_profit": serializers.DecimalField(max_digits=14, decimal_places=2),
        },
        required=False,
    )


class SportsbookListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        key = serializers.CharField()
        title = serializers.CharField()
        region = serializers.CharField()
        is_sharp = serializers.BooleanField()
        latency_tier = serializers.CharField()
        freshness_seconds = serializers.IntegerField()

    @extend_schema(
        responses=inline_serializer(name="SportsbookList", fields={"results": OutputSerializer(many=True)})
    )
    def get(self, request):
        from edges.models import Sportsbook

        books = Sportsbook.objects.filter(is_active=True)
        return Response({"results": self.OutputSerializer(books, many=True).data})


class EventOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    provider_id = serializers.CharField()
    sport_key = serializers.CharField(source="sport.key")
    home_team = serializers.CharField()
    away_team = serializers.CharField()
    commence_time = serializers.DateTimeField()
    status = serializers.CharField()
    home_score = serializers.IntegerField(allow_null=True)
    away_score = serializers.IntegerField(allow_null=True)


class EventListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        sport = serializers.SlugField(required=False)
        status = serializers.ChoiceField(choices=Event.Status.choices, required=False)
        date = serializers.DateField(required=False)

    @extend_schema(
        operation_id="v1_events_list",
        parameters=[FilterSerializer],
        responses=paginated("PaginatedEventList", EventOutputSerializer(many=True)),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        if not filters.is_valid():
            raise _validation_error(filters.errors)
        events = selectors.event_list(**filters.validated_data)
        paginator = Pagination()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(EventOutputSerializer(page, many=True).data)


class PricingInputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=pricing.DEVIG_METHODS, required=False)
    reference = serializers.ChoiceField(choices=pricing.REFERENCES, required=False)


def _pricing_choice(request) -> tuple[str, str]:
    data = PricingInputSerializer(data=request.query_params)
    if not data.is_valid():
        raise _validation_error(data.errors)
    method, reference = selectors.pricing_preferences(user=request.user)
    return data.validated_data.get("method", method), data.validated_data.get("reference", reference)


def _event_or_404(event_id: int) -> Event:
    event = selectors.event_get(event_id=event_id)
    if event is None:
        raise NotFound(f"No event {event_id}.")
    return event


class EventDetailOutputSerializer(EventOutputSerializer):
    """The event with every market's grid (the boards come in the context)."""

    markets = serializers.SerializerMethodField()

    @extend_schema_field(MarketBoardOutputSerializer(many=True))
    def get_markets(self, event: Event) -> list[dict[str, Any]]:
        # many=True builds a ListSerializer whose data is a list (the stubs type it as a dict)
        return MarketBoardOutputSerializer(self.context["boards"], many=True).data  # type: ignore[return-value]


class EventDetailApi(APIView):
    @extend_schema(parameters=[PricingInputSerializer], responses=EventDetailOutputSerializer)
    def get(self, request, event_id: int):
        event = _event_or_404(event_id)
        method, reference = _pricing_choice(request)
        boards = selectors.event_markets_board(event=event, method=method, reference=reference)
        return Response(EventDetailOutputSerializer(event, context={"boards": boards}).data)


class EventHistoryApi(APIView):
    class FilterSerializer(serializers.Serializer):
        market = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    @extend_schema(
        parameters=[FilterSerializer],
        responses=inline_serializer(
            name="LineMovement",
            fields={
                "event_id": serializers.IntegerField(),
                "markets": inline_serializer(
                    name="LineMovementMarket",
                    many=True,
                    fields={
                        "market_id": serializers.IntegerField(),
                        "outcomes": inline_serializer(
                            name="LineMovementOutcome",
                            many=True,
                            fields={
                                "outcome_id": serializers.IntegerField(),
                                "name": serializers.CharField(),
                                "books": serializers.DictField(
                                    child=serializers.ListField(
                                        child=inline_serializer(
                                            name="LinePoint",
                                            fields={
                                                "at": serializers.DateTimeField(),
                                                "price_decimal": serializers.DecimalField(
                                                    max_digits=10, decimal_places=4
                                                ),
                                            },
                                        )
                                    )
                                ),
                            },
                        ),
                    },
                ),
            },
        ),
    )
    def get(self, request, event_id: int):
        event = _event_or_404(event_id)
        filters = self.FilterSerializer(data=request.query_params)
        if not filters.is_valid():
            raise _validation_error(filters.errors)
        series = selectors.market_history(event=event, market_id=filters.validated_data.get("market"))
        return Response(
            {
                "event_id": event.pk,
                "markets": [
                    {
                        "market_id": m["market_id"],
                        "outcomes": [
                            {
                                "outcome_id": o["outcome_id"],
                                "name": o["name"],
                                "books": {
                                    book: [
                                        {"at": when, "price_decimal": str(price)} for when, price in points
                                    ]
                                    for book, points in o["books"].items()
                                },
                            }
                            for o in m["outcomes"].values()
                        ],
                    }
                    for m in series.values()
                ],
            }
        )


def _edge_with_stake(edge, sizing: selectors.ViewerSizing) -> dict:
    data = realtime.edge_to_dict(edge)
    data.pop("oldest_quote_ts", None)
    stake = sizing.stake_minor(edge.kelly_fraction)
    data["recommended_stake"] = {"amount": minor_to_decimal(stake), "currency": sizing.currency}
    data["quote_age_seconds"] = round(selectors.quote_age_seconds(edge=edge), 3)
    return data


class EdgeListApi(APIView):
    @extend_schema(
        operation_id="v1_edges_list",
        parameters=query_parameters(EdgeFilterForm),
        responses=paginated("PaginatedEdgeList", EdgeSchema(many=True)),
    )
    def get(self, request):
        form = EdgeFilterForm(request.query_params)
        if not form.is_valid():
            raise _validation_error(form.errors.get_json_data())
        edges = selectors.search_edges(filters=form.to_filters())
        paginator = Pagination()
        page = paginator.paginate_queryset(edges, request, view=self)
        sizing = viewer_sizing_for(user=request.user)
        return paginator.get_paginated_response([_edge_with_stake(e, sizing) for e in page])


class EdgeDetailApi(APIView):
    @extend_schema(responses=EdgeDetailSchema)
    def get(self, request, edge_id: str):
        edge = selectors.edge_get(edge_id=edge_id)
        if edge is None:
            raise NotFound(f"No edge {edge_id}.")
        data = _edge_with_stake(edge, viewer_sizing_for(user=request.user))
        if edge.kind == "arbitrage":
            split = pricing.arbitrage_stakes(10_000, [leg["price_decimal"] for leg in edge.legs])
            data["stake_split_per_100"] = {
                "stakes": [minor_to_decimal(s) for s in split.stakes_minor],
                "guaranteed_payout": minor_to_decimal(split.guaranteed_payout_minor),
                "guaranteed_profit": minor_to_decimal(split.guaranteed_profit_minor),
            }
        return Response(data)
