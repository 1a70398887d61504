from decimal import Decimal
from zoneinfo import available_timezones

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from betthat.core.errors import ApplicationError
from betthat.core.serializers import MoneyOutputSerializer
from betthat.users import services
from betthat.users.models import User


class UserOutputSerializer(serializers.ModelSerializer):
    max_bet_size = MoneyOutputSerializer()
    daily_bet_limit = MoneyOutputSerializer()
    monthly_bet_limit = MoneyOutputSerializer()

    class Meta:
        model = User
        fields = [
            "id",
            "external_id",
            "email",
            "name",
            "timezone",
            "phone",
            "status",
            "verification_level",
            "max_bet_size",
            "daily_bet_limit",
            "monthly_bet_limit",
            "risk_tolerance",
            "auto_kelly_sizing",
            "max_kelly_fraction",
            "preferences",
            "is_staff",
            "created_at",
            "updated_at",
        ]


class MeApi(APIView):
    class UpdateSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
        timezone = serializers.ChoiceField(choices=sorted(available_timezones()), required=False)
        risk_tolerance = serializers.ChoiceField(choices=User.RiskTolerance.choices, required=False)
        auto_kelly_sizing = serializers.BooleanField(required=False)
        max_kelly_fraction = serializers.DecimalField(
            max_digits=5, decimal_places=4, min_value=Decimal("0"), max_value=Decimal("1"), required=False
        )
        preferences = serializers.DictField(required=False)

        def validate_preferences(self, value):
            unknown = set(value) - set(services.PREFERENCE_KEYS)
            if unknown:
                raise serializers.ValidationError(f"Unknown preference keys: {sorted(unknown)}")
            return value

    @extend_schema(responses=UserOutputSerializer)
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(request=UpdateSerializer, responses=UserOutputSerializer)
    def patch(self, request):
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        preferences = values.pop("preferences", None)
        user = services.user_update_settings(user=request.user, fields=values, preferences=preferences)
        return Response(UserOutputSerializer(user).data)


class TokenCreateApi(APIView):
    """Exchange email and password for an API token (other clients than the browser)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        password = serializers.CharField(trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email = data.validated_data["email"].lower()
        user = authenticate(request, email=email, password=data.validated_data["password"])
        if user is None:
            existing = User.all_objects.filter(email=email).first()
            if (
                existing is not None
                and existing.is_suspended
                and existing.check_password(data.validated_data["password"])
            ):
                raise ApplicationError("This account is suspended.", code="account_suspended", status=403)
            raise ApplicationError(
                "Email or password is not correct.", code="invalid_credentials", status=401
            )
        return Response({"token": services.user_token_get_or_create(user=user)})
