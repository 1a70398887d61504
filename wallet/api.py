"""The wallet's REST API: one view per operation, nested input and output serializers."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from betthat.core.errors import ApplicationError
from betthat.core.serializers import minor_to_decimal
from wallet import selectors, services
from wallet.idempotency import idempotent_response
from wallet.models import DepositLimit, Payment, Transaction
from wallet.money import parse_amount
from wallet.webhooks import payment_webhook_receive


def _currency_param(value: str | None) -> str:
    currency = (value or settings.DEFAULT_CURRENCY).upper()
    if currency not in settings.CURRENCIES:
        raise ApplicationError(
            f"Unsupported currency {currency!r}.",
            code="validation_error",
            details={"currency": [f"Choose one of {', '.join(settings.CURRENCIES)}."]},
        )
    return currency


class MoneyInputSerializer(serializers.Serializer):
    # Any JSON scalar: parse_amount turns it into minor units or answers 400 invalid_amount.
    amount = serializers.JSONField(allow_null=True)
    currency = serializers.CharField(max_length=3, required=False, default="USD")


class PaymentOutputSerializer(serializers.ModelSerializer):
    amount = serializers.SerializerMethodField()
    checkout_url = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "id",
            "direction",
            "amount",
            "currency",
            "provider",
            "provider_transaction_id",
            "status",
            "failure_reason",
            "checkout_url",
            "created_at",
            "completed_at",
        ]

    def get_amount(self, payment) -> str:
        return minor_to_decimal(payment.amount_minor)

    def get_checkout_url(self, payment) -> str | None:
        if not payment.checkout_url:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(payment.checkout_url) if request else payment.checkout_url


class WalletDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        currency = serializers.CharField()
        available = serializers.CharField()
        held = serializers.CharField()
        total = serializers.CharField()

    @extend_schema(
        parameters=[OpenApiParameter("currency", str, description="USD (default), EUR or GBP")],
        responses=OutputSerializer,
    )
    def get(self, request):
        balances = selectors.wallet_balances_for_user(
            user=request.user, currency=_currency_param(request.query_params.get("currency"))
        )
        return Response(
            {
                "currency": balances.currency,
                "available": minor_to_decimal(balances.available_minor),
                "held": minor_to_decimal(balances.held_minor),
                "total": minor_to_decimal(balances.total_minor),
            }
        )


class TransactionPagination(CursorPagination):
    ordering = "-id"
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class TransactionListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        type = serializers.ChoiceField(choices=Transaction.Type.choices, required=False)
        status = serializers.ChoiceField(choices=Transaction.Status.choices, required=False)
        currency = serializers.ChoiceField(choices=[(c, c) for c in settings.CURRENCIES], required=False)

    class EntryOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        account = serializers.CharField(source="account.kind")
        amount = serializers.SerializerMethodField()
        entry_type = serializers.CharField()
        created_at = serializers.DateTimeField()

        def get_amount(self, entry) -> str:
            return minor_to_decimal(entry.amount_minor)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        type = serializers.CharField()
        status = serializers.CharField()
        amount = serializers.SerializerMethodField()
        currency = serializers.CharField()
        fee = serializers.SerializerMethodField()
        bet_id = serializers.IntegerField(allow_null=True)
        payment_id = serializers.IntegerField(allow_null=True)
        sportsbook_id = serializers.CharField()
        reason = serializers.CharField()
        created_at = serializers.DateTimeField()
        completed_at = serializers.DateTimeField(allow_null=True)
        entries = serializers.SerializerMethodField()

        def get_amount(self, tx) -> str:
            return minor_to_decimal(tx.amount_minor)

        def get_fee(self, tx) -> str:
            return minor_to_decimal(tx.fee_minor)

        def get_entries(self, tx) -> list[dict]:
            return TransactionListApi.EntryOutputSerializer(tx.user_entries, many=True).data

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.transaction_list_for_user(user=request.user, **filters.validated_data)
        paginator = TransactionPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class DepositCreateApi(APIView):
    """Start a deposit. Needs an `Idempotency-Key` header. With the sandbox provider the
    answer carries `checkout_url`, the page where the user pays."""

    @extend_schema(request=MoneyInputSerializer, responses={201: PaymentOutputSerializer})
    def post(self, request):
        def handler() -> Response:
            data = MoneyInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            payment = services.wallet_deposit_start(
                user=request.user,
                amount_minor=parse_amount(data.validated_data["amount"]),
                currency=_currency_param(data.validated_data["currency"]),
                idempotency_key=request.headers.get("Idempotency-Key", "")[:255],
            )
            return Response(PaymentOutputSerializer(payment, context={"request": request}).data, status=201)

        return idempotent_response(request, scope="wallet.deposit", handler=handler)


class WithdrawalCreateApi(APIView):
    """Withdraw: the amount is held at once and paid out on the provider's answer."""

    @extend_schema(request=MoneyInputSerializer, responses={201: PaymentOutputSerializer})
    def post(self, request):
        def handler() -> Response:
            data = MoneyInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            payment = services.wallet_withdraw(
                user=request.user,
                amount_minor=parse_amount(data.validated_data["amount"]),
                currency=_currency_param(data.validated_data["currency"]),
                idempotency_key=request.headers.get("Idempotency-Key", "")[:255],
            )
            return Response(PaymentOutputSerializer(payment, context={"request": request}).data, status=201)

        return idempotent_response(request, scope="wallet.withdrawal", handler=handler)


class PaymentDetailApi(APIView):
    @extend_schema(responses=PaymentOutputSerializer)
    def get(self, request, payment_id: int):
        payment = selectors.payment_get_for_user(user=request.user, payment_id=payment_id)
        if payment is None:
            raise ApplicationError("No such payment.", code="not_found", status=404)
        return Response(PaymentOutputSerializer(payment, context={"request": request}).data)


class DepositLimitApi(APIView):
    """Deposit limits per 24 hours, 7 days, 30 days. Lowering applies at once; raising or
    removing (amount null) after a 24-hour cooling-off."""

    class InputSerializer(serializers.Serializer):
        period = serializers.ChoiceField(choices=DepositLimit.Period.choices)
        amount = serializers.JSONField(allow_null=True)
        currency = serializers.CharField(max_length=3, required=False, default="USD")

    class OutputSerializer(serializers.Serializer):
        period = serializers.CharField()
        amount = serializers.SerializerMethodField()
        pending_amount = serializers.SerializerMethodField()
        pending_is_removal = serializers.BooleanField()
        pending_effective_at = serializers.DateTimeField(allow_null=True)
        used = serializers.SerializerMethodField()

        def get_amount(self, view) -> str | None:
            return None if view.amount_minor is None else minor_to_decimal(view.amount_minor)

        def get_pending_amount(self, view) -> str | None:
            return None if view.pending_amount_minor is None else minor_to_decimal(view.pending_amount_minor)

        def get_used(self, view) -> str:
            return minor_to_decimal(view.used_minor)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        currency = _currency_param(request.query_params.get("currency"))
        views = selectors.deposit_limits_for_user(user=request.user, currency=currency)
        return Response(self.OutputSerializer(views, many=True).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer(many=True))
    def put(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        raw = data.validated_data["amount"]
        if raw is None:
            amount = None
        elif str(raw).strip() in ("0", "0.0", "0.00"):
            amount = 0
        else:
            amount = parse_amount(raw)
        currency = _currency_param(data.validated_data["currency"])
        services.deposit_limit_set(
            user=request.user, period=data.validated_data["period"], amount_minor=amount, currency=currency
        )
        views = selectors.deposit_limits_for_user(user=request.user, currency=currency)
        return Response(self.OutputSerializer(views, many=True).data)


class PaymentWebhookApi(APIView):
    """Provider webhooks: the signature is checked on the raw body; no session, no CSRF."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(request=None, responses={200: None})
    def post(self, request, provider: str):
        body = request.body  # the raw bytes, before any parsing
        result = payment_webhook_receive(provider=provider, body=body, headers=request.headers)
        return Response({"received": True, **result})
