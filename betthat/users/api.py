from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import available_timezones

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from betthat.core.authentication import BearerOrTokenAuthentication, IsActiveUser
from betthat.core.errors import ApplicationError
from betthat.core.serializers import MoneyOutputSerializer
from betthat.core.throttling import ScopedRateThrottle
from betthat.users import kyc, selectors, services
from betthat.users.http import current_user
from betthat.users.models import ApiToken, User
from betthat.users.preferences import PreferencesSerializer


class PricingOutputSerializer(serializers.Serializer):
    devig_method = serializers.CharField()
    reference = serializers.CharField()


class PreferencesOutputSerializer(serializers.Serializer):
    odds_format = serializers.CharField()
    favourite_sports = serializers.ListField(child=serializers.CharField())
    notify_settlements = serializers.BooleanField()
    notify_deposits = serializers.BooleanField()
    notify_email = serializers.BooleanField()
    theme = serializers.CharField()
    pricing = PricingOutputSerializer()


class UserOutputSerializer(serializers.ModelSerializer):
    max_bet_size = MoneyOutputSerializer()
    daily_bet_limit = MoneyOutputSerializer()
    monthly_bet_limit = MoneyOutputSerializer()
    preferences = serializers.SerializerMethodField()

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
            "frozen_at",
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

    @extend_schema_field(PreferencesOutputSerializer)
    def get_preferences(self, user: User) -> dict[str, Any]:
        return selectors.user_preferences(user=user).as_json()


class MeApi(APIView):
    class UpdateSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
        timezone = serializers.ChoiceField(
            choices=sorted(available_timezones()),
            required=False,
            allow_blank=True,
            help_text="An IANA zone name for the times on pages; blank: the browser's zone.",
        )
        risk_tolerance = serializers.ChoiceField(choices=User.RiskTolerance.choices, required=False)
        auto_kelly_sizing = serializers.BooleanField(required=False)
        max_kelly_fraction = serializers.DecimalField(
            max_digits=5, decimal_places=4, min_value=Decimal("0"), max_value=Decimal("1"), required=False
        )
        preferences = PreferencesSerializer(required=False)

    @extend_schema(responses=UserOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(request=UpdateSerializer, responses=UserOutputSerializer)
    def patch(self, request: Request) -> Response:
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        preferences = values.pop("preferences", None)
        user = services.user_update_settings(
            user=current_user(request), fields=values, preferences=preferences
        )
        return Response(UserOutputSerializer(user).data)


class MeTimeZoneDetectedApi(APIView):
    """POST {"timezone": "<the browser's IANA zone>"}: stored only while the user has none (the
    pages' script sends it once); returns the zone now stored, which may be one the user chose."""

    class InputSerializer(serializers.Serializer):
        timezone = serializers.CharField(max_length=64)

    class OutputSerializer(serializers.Serializer):
        timezone = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stored = services.user_timezone_detected(
            user=current_user(request), name=data.validated_data["timezone"]
        )
        return Response({"timezone": stored})


class ApiTokenSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The first characters of the key, to tell tokens apart.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    current = serializers.BooleanField(help_text="The token this request is authenticated with.")


def token_output(token: ApiToken, current: ApiToken | None) -> dict[str, Any]:
    return ApiTokenSerializer(
        {
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "current": current is not None and token.pk == current.pk,
        }
    ).data


class TokenApi(APIView):
    """POST: exchange email, password (and the TOTP code when two-factor is on) for an API token.
    DELETE: revoke the token this request is authenticated with."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        password = serializers.CharField(trim_whitespace=False, max_length=4096)
        otp = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=64,
            help_text="The authenticator's code (or a recovery code) when two-factor is on.",
        )
        code = serializers.CharField(
            required=False, allow_blank=True, max_length=64, help_text="Another name for `otp`."
        )
        name = serializers.CharField(required=False, allow_blank=True, max_length=100)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        id = serializers.IntegerField()
        expires_at = serializers.DateTimeField()

    def get_authenticators(self):
        if self.request is not None and self.request.method == "POST":
            return []
        return [BearerOrTokenAuthentication()]

    def get_permissions(self):
        if self.request is not None and self.request.method == "POST":
            return [AllowAny()]
        return [IsActiveUser()]

    def get_throttles(self):
        if self.request is not None and self.request.method == "POST":
            return super().get_throttles()
        return []

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            401: OpenApiResponse(description="invalid_credentials, mfa_required or mfa_invalid"),
            403: OpenApiResponse(description="account_suspended or email_unverified"),
            429: OpenApiResponse(description="throttled or too_many_attempts"),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email = data.validated_data["email"].lower()
        password = data.validated_data["password"]
        adapter = get_account_adapter(request._request)
        try:
            # allauth's own authentication: the same per-address and per-account budget of
            # failed attempts as the login page (ACCOUNT_RATE_LIMITS["login_failed"]).
            user = adapter.authenticate(request._request, email=email, password=password)
        except DjangoValidationError:
            raise ApplicationError(
                "Too many failed sign-in attempts for this account. Try again later.",
                code="too_many_attempts",
                status=429,
            ) from None
        # allauth hands back a user whose password was right but who may not sign in (it
        # stashes them to show the "inactive" page): the status decides here.
        if user is not None and user.is_suspended:
            raise ApplicationError("This account is suspended.", code="account_suspended", status=403)
        if user is None or not user.is_active or user.deleted_at is not None:
            raise ApplicationError(
                "Email or password is not correct.", code="invalid_credentials", status=401
            )
        if not EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists():
            raise ApplicationError(
                "Confirm your email address first: follow the link we sent you.",
                code="email_unverified",
                status=403,
            )
        code = data.validated_data.get("otp") or data.validated_data.get("code") or ""
        self._check_second_factor(request, user, email, code)
        # Made with the password (and code) just checked: it may take sensitive steps.
        key = services.user_token_create(
            user=user, name=data.validated_data.get("name", ""), source=ApiToken.Source.CREDENTIALS
        )
        token = ApiToken.objects.get(key_hash=ApiToken.hash(key))
        return Response({"token": key, "id": token.pk, "expires_at": token.expires_at})

    def _check_second_factor(self, request: Request, user: User, email: str, code: str) -> None:
        authenticators = list(
            Authenticator.objects.filter(
                user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
            )
        )
        if not any(a.type == Authenticator.Type.TOTP for a in authenticators):
            return
        code = code.strip()
        if not code:
            raise ApplicationError(
                "Two-factor authentication is on: send the authenticator's code as `otp`.",
                code="mfa_required",
                status=401,
            )
        for authenticator in authenticators:
            if authenticator.wrap().validate_code(code):
                authenticator.record_usage()
                return
        # A wrong code counts as a failed attempt against the account, like a wrong password.
        from allauth.core import ratelimit

        adapter = get_account_adapter(request._request)
        ratelimit.consume(
            request._request,
            action="login_failed",
            key=adapter._get_login_attempts_cache_key(request._request, email=email),
        )
        raise ApplicationError("The two-factor code is not correct.", code="mfa_invalid", status=401)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiToken):
            raise ApplicationError(
                "This request is not authenticated with a token.", code="not_token_authenticated"
            )
        services.user_token_revoke(user=current_user(request), token_id=request.auth.pk)
        return Response(status=204)


class TokenListApi(APIView):
    """The user's API tokens (keys are never shown again after creation)."""

    @extend_schema(responses=ApiTokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        current = request.auth if isinstance(request.auth, ApiToken) else None
        return Response([token_output(t, current) for t in selectors.user_tokens(user=current_user(request))])


class TokenDetailApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, token_id: int) -> Response:
        services.user_token_revoke(user=current_user(request), token_id=token_id)
        return Response(status=204)


# Kept for imports from before the token endpoint grew DELETE.
TokenCreateApi = TokenApi


class KycStatusOutputSerializer(serializers.Serializer):
    status = serializers.CharField(allow_null=True)
    provider_reference = serializers.CharField(allow_null=True)
    level = serializers.IntegerField()
    verification_level = serializers.IntegerField()
    reason = serializers.CharField(allow_blank=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)


def kyc_output(user: User) -> dict[str, Any]:
    record = kyc.kyc_status_for_user(user=user)
    return {
        "status": record.status if record else None,
        "provider_reference": record.provider_reference if record else None,
        "level": record.level if record else 0,
        "verification_level": user.verification_level,
        "reason": record.reason if record else "",
        "submitted_at": record.submitted_at if record else None,
        "decided_at": record.decided_at if record else None,
    }


class KycApi(APIView):
    """The bettor's identity check: GET its state, POST identity details to the configured
    KYC provider (202; its decision arrives by webhook). The details are never stored."""

    class InputSerializer(serializers.Serializer):
        full_name = serializers.CharField(max_length=150)
        date_of_birth = serializers.DateField()
        country = serializers.CharField(max_length=2, min_length=2)
        document_number = serializers.CharField(max_length=40)

    @extend_schema(responses={200: KycStatusOutputSerializer})
    def get(self, request: Request) -> Response:
        return Response(kyc_output(current_user(request)))

    @extend_schema(request=InputSerializer, responses={202: KycStatusOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = current_user(request)
        details = kyc.validate_identity(**data.validated_data)
        kyc.kyc_submit(user=user, details=details)
        return Response(kyc_output(user), status=202)


class KycWebhookApi(APIView):
    """KYC provider webhooks: the signature is checked on the raw body; no session, no CSRF."""

    authentication_classes: list[type[Any]] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type[Any]] = []

    @extend_schema(request=None, responses={200: None})
    def post(self, request: Request, provider: str) -> Response:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > kyc.MAX_WEBHOOK_BYTES:
            raise ApplicationError("The webhook body is too large.", code="payload_too_large", status=413)
        result = kyc.kyc_webhook_receive(provider=provider, body=request.body, headers=request.headers)
        return Response({"received": True, **result})
