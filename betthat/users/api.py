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
    @extend_schema(responses=UserOutputSerializer)
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)


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
