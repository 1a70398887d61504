"""REST endpoints of the social app: one APIView per operation, nested serializers.

Reads of public profiles, their bets and record, and the leaderboards are open to anyone
(throttled); everything about "me" and follows needs a login."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from betthat.core.errors import NotFound
from betthat.core.throttling import ScopedRateThrottle
from social import selectors, services
from social.handles import MAX_LENGTH
from social.models import MAX_DELAY_SEC, LeaderboardMetric, LeaderboardWindow, StakeVisibility


def _ratio(value) -> str | None:
    return None if value is None else str(value)


class StakeOutputSerializer(serializers.Serializer):
    visibility = serializers.CharField(help_text="hidden, rounded or exact.")
    amount = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        required=False,
        help_text="Exact stake, or the bucket's floor when rounded.",
    )
    upper = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        required=False,
        help_text="Rounded only: the bucket's (exclusive) ceiling.",
    )
    currency = serializers.CharField(required=False)
    display = serializers.CharField()


class LegOutputSerializer(serializers.Serializer):
    event_id = serializers.IntegerField()
    matchup = serializers.CharField()
    market = serializers.CharField()
    selection = serializers.CharField()
    price_decimal = serializers.DecimalField(max_digits=12, decimal_places=6)


class PublicBetOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    bet_id = serializers.IntegerField()
    handle = serializers.CharField()
    kind = serializers.CharField()
    sport_key = serializers.CharField()
    event = serializers.CharField()
    commence_time = serializers.DateTimeField(allow_null=True)
    market_type = serializers.CharField()
    selection = serializers.CharField()
    legs = LegOutputSerializer(many=True)
    sportsbook = serializers.CharField()
    odds_decimal = serializers.DecimalField(max_digits=18, decimal_places=6)
    odds_american = serializers.CharField()
    stake = StakeOutputSerializer(help_text="No amount when hidden; a bucket when rounded.")
    status = serializers.CharField()
    result = serializers.CharField()
    profit_units = serializers.DecimalField(
        max_digits=12, decimal_places=4, allow_null=True, help_text="Profit / stake once settled."
    )
    net_profit = inline_serializer(
        "PublicBetNetProfit",
        {
            "amount": serializers.DecimalField(max_digits=18, decimal_places=2),
            "currency": serializers.CharField(),
        },
        allow_null=True,
        help_text="Only when the stake is shown exactly.",
    )
    clv_percent = serializers.DecimalField(max_digits=12, decimal_places=6, allow_null=True)
    placed_at = serializers.DateTimeField()
    visible_from = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True)
    is_visible = serializers.BooleanField(help_text="False only in the owner's own view, before the delay.")


def _page_serializer(name: str):
    return inline_serializer(
        name,
        {
            "results": PublicBetOutputSerializer(many=True),
            "next_cursor": serializers.CharField(allow_null=True),
        },
    )


PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="`next_cursor` of the previous page."),
    OpenApiParameter("limit", int, description="Items per page, 1 to 100 (default 20)."),
]


class PageQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(required=False, allow_blank=True, default="")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=selectors.MAX_PAGE, default=None)


def _page_response(page: selectors.Page) -> Response:
    return Response({"results": page.items, "next_cursor": page.next_cursor})


class SportRecordSerializer(serializers.Serializer):
    bets = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    roi = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    win_rate = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    average_clv = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)


class RecordSummarySerializer(serializers.Serializer):
    bets = serializers.IntegerField()
    settled = serializers.IntegerField()
    pending = serializers.IntegerField()
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    pushed = serializers.IntegerField()
    void = serializers.IntegerField()
    roi = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    win_rate = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    average_clv = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    clv_count = serializers.IntegerField()
    beat_close_share = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    by_sport = serializers.DictField(child=SportRecordSerializer())


class ProfileOutputSerializer(serializers.Serializer):
    handle = serializers.CharField()
    display_name = serializers.CharField()
    bio = serializers.CharField()
    is_public = serializers.BooleanField()
    stake_visibility = serializers.CharField()
    live_delay_sec = serializers.IntegerField()
    member_since = serializers.DateTimeField()
    followers_count = serializers.IntegerField()
    following_count = serializers.IntegerField()
    is_following = serializers.BooleanField()
    is_owner = serializers.BooleanField()
    record = RecordSummarySerializer()


def _profile_body(summary: dict) -> dict:
    return ProfileOutputSerializer(summary).data


class MyProfileApi(APIView):
    """GET or PATCH the signed-in user's own profile."""

    class InputSerializer(serializers.Serializer):
        handle = serializers.CharField(max_length=MAX_LENGTH + 1, required=False)
        is_public = serializers.BooleanField(required=False)
        stake_visibility = serializers.ChoiceField(choices=StakeVisibility.choices, required=False)
        live_delay_sec = serializers.IntegerField(min_value=0, max_value=MAX_DELAY_SEC, required=False)
        bio = serializers.CharField(max_length=2000, required=False, allow_blank=True, trim_whitespace=False)
        display_name = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(responses=ProfileOutputSerializer)
    def get(self, request):
        profile = selectors.profile_for_user(user=request.user)
        return Response(_profile_body(selectors.profile_summary(profile=profile, viewer=request.user)))

    @extend_schema(
        request=InputSerializer,
        responses=ProfileOutputSerializer,
        description=(
            "Errors: validation_error, invalid_handle (shape or reserved word), handle_taken (409: not "
            "available, whoever holds it), handle_confusable (409: looks like a handle in use), handle_cooling "
            "(409: given up by another account within SOCIAL_HANDLE_COOLING_DAYS), rate_limited (429: "
            "SOCIAL_HANDLE_CHANGES_PER_HOUR new handles an hour)."
        ),
    )
    def patch(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.profile_update(user=request.user, **data.validated_data)
        return Response(_profile_body(selectors.profile_summary(profile=profile, viewer=request.user)))


class ProfileDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=ProfileOutputSerializer, description="A private profile is a 404 to others.")
    def get(self, request, handle: str):
        profile = selectors.profile_get_for_viewer(handle=handle, viewer=request.user)
        return Response(_profile_body(selectors.profile_summary(profile=profile, viewer=request.user)))


class ProfileBetListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses=_page_serializer("PublicBetPage"),
        description="The profile's public bets past their delay, newest first (the owner also sees "
        "those still delayed, with is_visible false).",
    )
    def get(self, request, handle: str):
        params = PageQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        profile = selectors.profile_get_for_viewer(handle=handle, viewer=request.user)
        page = selectors.profile_bets_page(
            profile=profile,
            viewer=request.user,
            cursor=params.validated_data["cursor"],
            limit=params.validated_data["limit"],
        )
        return _page_response(page)


class RecordEntryOutputSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    bet_id = serializers.IntegerField()
    market = serializers.CharField()
    price = serializers.CharField()
    stake_mode = serializers.CharField()
    placed_at = serializers.CharField()
    previous_hash = serializers.CharField()
    hash = serializers.CharField()


class ProfileRecordApi(APIView):
    permission_classes = [AllowAny]

    class QuerySerializer(serializers.Serializer):
        after = serializers.IntegerField(required=False, min_value=0, default=0)
        limit = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=selectors.RECORD_PAGE_MAX,
            default=selectors.RECORD_PAGE_SIZE,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "after", int, description="Serve the lines after this one (0, the default: from line 1)."
            ),
            OpenApiParameter(
                "limit",
                int,
                description=f"Lines per page, 1 to {selectors.RECORD_PAGE_MAX} (default {selectors.RECORD_PAGE_SIZE}).",
            ),
        ],
        responses=inline_serializer(
            "ProfileRecord",
            {
                "handle": serializers.CharField(),
                "algorithm": serializers.CharField(),
                "line_format": serializers.CharField(),
                "genesis": serializers.CharField(),
                "count": serializers.IntegerField(),
                "head": serializers.CharField(allow_null=True),
                "entries": RecordEntryOutputSerializer(many=True),
                "next_after": serializers.IntegerField(allow_null=True),
                "next": serializers.CharField(allow_null=True),
            },
        ),
        description="The hash-chained record of the profile's public bets, from line 1 up to the last "
        "line whose bet is visible (`count` lines ending at `head`), a page at a time: follow `next` "
        "until it is null. Recompute each hash as sha256 of the line format; a page's first "
        "previous_hash is the last hash of the page before (the genesis on the first); docs/social.md.",
    )
    def get(self, request, handle: str):
        from social.record import GENESIS

        params = self.QuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        profile = selectors.profile_get_for_viewer(handle=handle, viewer=request.user)
        page = selectors.record_page_for_profile(
            profile=profile,
            viewer=request.user,
            after=params.validated_data["after"],
            limit=params.validated_data["limit"],
        )
        next_url = None
        if page.next_after is not None:
            query = urlencode({"after": page.next_after, "limit": params.validated_data["limit"]})
            next_url = request.build_absolute_uri(f"{request.path}?{query}")
        return Response(
            {
                "handle": profile.handle,
                "algorithm": "sha256",
                "line_format": "{previous_hash}|{bet_id}|{market}|{price}|{stake_mode}|{placed_at}",
                "genesis": GENESIS,
                "count": page.count,
                "head": page.head,
                "entries": RecordEntryOutputSerializer(page.entries, many=True).data,
                "next_after": page.next_after,
                "next": next_url,
            }
        )


class HandleProfileSerializer(serializers.Serializer):
    handle = serializers.CharField()
    bio = serializers.CharField()


class FollowCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        handle = serializers.CharField(max_length=64)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: inline_serializer(
                "FollowCreated", {"handle": serializers.CharField(), "created": serializers.BooleanField()}
            ),
            200: inline_serializer(
                "FollowExisting", {"handle": serializers.CharField(), "created": serializers.BooleanField()}
            ),
        },
        description="Follow a public profile (200 if already followed). Errors: not_found (no public "
        "profile), cannot_follow_self, too_many_follows.",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        follow, created = services.follow_create(follower=request.user, handle=data.validated_data["handle"])
        handle = selectors.profile_for_user(user=follow.followee).handle
        return Response(
            {"handle": handle, "created": created},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class FollowDeleteApi(APIView):
    @extend_schema(responses={204: None}, description="Errors: not_following (404).")
    def delete(self, request, handle: str):
        services.follow_delete(follower=request.user, handle=handle)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyFollowingApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Following", {"count": serializers.IntegerField(), "results": HandleProfileSerializer(many=True)}
        ),
        description="The public profiles I follow (a followed profile gone private is left out).",
    )
    def get(self, request):
        profiles = list(selectors.following_queryset(user_id=request.user.pk)[:5000])
        return Response(
            {"count": len(profiles), "results": HandleProfileSerializer(profiles, many=True).data}
        )


class MyFollowersApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Followers",
            {
                "count": serializers.IntegerField(),
                "private_count": serializers.IntegerField(),
                "results": HandleProfileSerializer(many=True),
            },
        ),
        description="My followers with public profiles; those with private profiles are only counted.",
    )
    def get(self, request):
        profiles = list(selectors.followers_queryset(user_id=request.user.pk)[:5000])
        return Response(
            {
                "count": len(profiles),
                "private_count": selectors.followers_private_count(user_id=request.user.pk),
                "results": HandleProfileSerializer(profiles, many=True).data,
            }
        )


class FeedApi(APIView):
    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses=_page_serializer("FeedPage"),
        description="Public bets of the bettors I follow, visible now, newest first; cursor pagination.",
    )
    def get(self, request):
        params = PageQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = selectors.feed_for_user(
            user=request.user, cursor=params.validated_data["cursor"], limit=params.validated_data["limit"]
        )
        return _page_response(page)


class LeaderboardApi(APIView):
    permission_classes = [AllowAny]

    class QuerySerializer(serializers.Serializer):
        window = serializers.ChoiceField(choices=LeaderboardWindow.choices, default=LeaderboardWindow.DAYS_7)
        metric = serializers.ChoiceField(choices=LeaderboardMetric.choices, default=LeaderboardMetric.ROI)

    @extend_schema(
        parameters=[QuerySerializer],
        responses=inline_serializer(
            "Leaderboard",
            {
                "window": serializers.CharField(),
                "metric": serializers.CharField(),
                "min_bets": serializers.IntegerField(),
                "updated_at": serializers.DateTimeField(allow_null=True),
                "results": inline_serializer(
                    "LeaderboardRow",
                    {
                        "rank": serializers.IntegerField(),
                        "handle": serializers.CharField(),
                        "value": serializers.DecimalField(max_digits=14, decimal_places=6),
                        "n_bets": serializers.IntegerField(),
                    },
                    many=True,
                ),
            },
        ),
        description="ROI and win rate as fractions (0.1234 = 12.34%), CLV as the average of "
        "taken / closing - 1. Ties share a rank.",
    )
    def get(self, request):
        from django.conf import settings

        params = self.QuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        window, metric = params.validated_data["window"], params.validated_data["metric"]
        rows = selectors.leaderboard(window=window, metric=metric)
        return Response(
            {
                "window": window,
                "metric": metric,
                "min_bets": settings.SOCIAL_LEADERBOARD_MIN_BETS,
                "updated_at": rows[0]["updated_at"] if rows else None,
                "results": [
                    {
                        "rank": r["rank"],
                        "handle": r["handle"],
                        "value": str(r["value"]),
                        "n_bets": r["n_bets"],
                    }
                    for r in rows
                ],
            }
        )


class PeopleSearchThrottle(ScopedRateThrottle):
    """People search: `THROTTLE_PEOPLE_SEARCH` per user (or per address when signed out),
    on the API and the page alike, so the directory cannot be scraped quickly."""

    scope_attr = "throttle_scope"


class PeopleSearchPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 50

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except Http404 as error:
            raise NotFound(
                "That page does not exist.", details={"page": request.query_params.get("page")}
            ) from error


class PersonOutputSerializer(serializers.Serializer):
    handle = serializers.CharField()
    display_name = serializers.CharField()
    bio = serializers.CharField()
    similarity = serializers.FloatField(
        allow_null=True,
        help_text="pg_trgm word similarity, 0 to 1; null where the server has no pg_trgm (a plain match)",
    )
    url = serializers.SerializerMethodField()

    def get_url(self, profile) -> str:
        return reverse("social:profile", args=[profile.handle])


class PeopleSearchApi(APIView):
    """Find public bettors by handle or display name, most similar first."""

    permission_classes = [AllowAny]
    throttle_classes = [PeopleSearchThrottle]
    throttle_scope = "people_search"

    class QuerySerializer(serializers.Serializer):
        q = serializers.CharField(max_length=200, help_text="2 to 50 characters of a handle or name")
        page = serializers.IntegerField(min_value=1, required=False)
        page_size = serializers.IntegerField(min_value=1, max_value=50, required=False)

    @extend_schema(
        parameters=[QuerySerializer],
        responses=PersonOutputSerializer(many=True),
        description="Public profiles only (private, hidden and suspended ones are never found). "
        "Errors: validation_error (q missing, shorter than 2 or longer than 50), throttled (429).",
    )
    def get(self, request):
        params = self.QuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        results = selectors.profile_search(query=params.validated_data["q"])
        paginator = PeopleSearchPagination()
        page = paginator.paginate_queryset(results, request, view=self)
        return paginator.get_paginated_response(PersonOutputSerializer(page, many=True).data)
