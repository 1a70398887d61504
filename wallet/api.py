"""The wallet's REST API: one view per operation, nested input and output serializers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from betthat.core.authentication import IsActiveUser
from betthat.core.errors import ApplicationError
from betthat.core.renderers import CsvExportApiView
from betthat.core.schema import cursor_paginated
from betthat.core.serializers import minor_to_decimal
from betthat.users.http import current_user
from betthat.users.reauth import RecentlyAuthenticated
from wallet import exports, selectors, services
from wallet.idempotency import idempotent_response
from wallet.models import DepositLimit, LedgerEntry, Payment, Transaction
from wallet.money import parse_amount
from wallet.selectors import LimitView
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


class MoneyInputSerializer(serializers.Serializer[Any]):
    # Any JSON scalar: parse_amount turns it into minor units or answers 400 invalid_amount.
    amount = serializers.JSONField(allow_null=True)
    currency = serializers.CharField(max_length=3, required=False, default="USD")


class PaymentOutputSerializer(serializers.ModelSerializer[Payment]):
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

    def get_amount(self, payment: Payment) -> str:
        return minor_to_decimal(payment.amount_minor)

    def get_checkout_url(self, payment: Payment) -> str | None:
        if not payment.checkout_url:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(payment.checkout_url) if request else payment.checkout_url


class WalletDetailApi(APIView):
    class OutputSerializer(serializers.Serializer[Any]):
        currency = serializers.CharField()
        available = serializers.CharField()
        held = serializers.CharField()
        total = serializers.CharField()

    @extend_schema(
        parameters=[OpenApiParameter("currency", str, description="USD (default), EUR or GBP")],
        responses=OutputSerializer,
    )
    def get(self, request: Request) -> Response:
        balances = selectors.wallet_balances_for_user(
            user=current_user(request), currency=_currency_param(request.query_params.get("currency"))
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
    class FilterSerializer(serializers.Serializer[Any]):
        type = serializers.ChoiceField(choices=Transaction.Type.choices, required=False)
        status = serializers.ChoiceField(choices=Transaction.Status.choices, required=False)
        currency = serializers.ChoiceField(choices=[(c, c) for c in settings.CURRENCIES], required=False)

    class EntryOutputSerializer(serializers.Serializer[Any]):
        id = serializers.IntegerField()
        account = serializers.CharField(source="account.kind")
        amount = serializers.SerializerMethodField()
        entry_type = serializers.CharField()
        created_at = serializers.DateTimeField()

        def get_amount(self, entry: LedgerEntry) -> str:
            return minor_to_decimal(entry.amount_minor)

    class OutputSerializer(serializers.Serializer[Any]):
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

        def get_amount(self, tx: Transaction) -> str:
            return minor_to_decimal(tx.amount_minor)

        def get_fee(self, tx: Transaction) -> str:
            return minor_to_decimal(tx.fee_minor)

        def get_entries(self, tx: Transaction) -> Any:
            entries = getattr(tx, "user_entries", [])  # prefetched by transaction_list_for_user
            return TransactionListApi.EntryOutputSerializer(entries, many=True).data

    @extend_schema(
        parameters=[
            FilterSerializer,
            OpenApiParameter("cursor", str, description="The `next` or `previous` link's cursor."),
            OpenApiParameter("page_size", int, description="Transactions per page (1-100, default 25)."),
        ],
        responses=cursor_paginated("TransactionPage", OutputSerializer(many=True)),
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.transaction_list_for_user(user=current_user(request), **filters.validated_data)
        paginator = TransactionPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class TransactionExportApi(CsvExportApiView):
    """The user's transactions of a date range as CSV (the same columns and numbers as the
    wallet page's download), streamed. `start` and `end` are ISO dates, both inclusive (UTC);
    without them, the last 30 days."""

    class FilterSerializer(serializers.Serializer[Any]):
        start = serializers.DateField(required=False, help_text="YYYY-MM-DD, inclusive")
        end = serializers.DateField(required=False, help_text="YYYY-MM-DD, inclusive")

    @extend_schema(
        parameters=[FilterSerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        start, end = exports.date_range(request.query_params.get("start"), request.query_params.get("end"))
        rows = selectors.transaction_export_for_user(user=current_user(request), start=start, end=end)
        response = StreamingHttpResponse(exports.user_transactions_csv(rows), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{exports.filename("wallet", start, end)}"'
        return response


class DepositCreateApi(APIView):
    """Start a deposit. Needs an `Idempotency-Key` header. With the sandbox provider the
    answer carries `checkout_url`, the page where the user pays."""

    @extend_schema(request=MoneyInputSerializer, responses={201: PaymentOutputSerializer})
    def post(self, request: Request) -> Response:
        def handler() -> Response:
            data = MoneyInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            payment = services.wallet_deposit_start(
                user=current_user(request),
                amount_minor=parse_amount(data.validated_data["amount"]),
                currency=_currency_param(data.validated_data["currency"]),
                idempotency_key=request.headers.get("Idempotency-Key", "")[:255],
                return_url=request.build_absolute_uri(reverse("wallet:index")),
            )
            return Response(PaymentOutputSerializer(payment, context={"request": request}).data, status=201)

        return idempotent_response(request, scope="wallet.deposit", handler=handler, calls_provider=True)


class WithdrawalCreateApi(APIView):
    """Withdraw: the amount is held at once and paid out on the provider's answer. A browser
    session must have re-authenticated within the last few minutes; a token must have been made
    with the password at POST /api/v1/auth/token/ (betthat/users/reauth.py)."""

    permission_classes = [IsActiveUser, RecentlyAuthenticated]

    @extend_schema(request=MoneyInputSerializer, responses={201: PaymentOutputSerializer})
    def post(self, request: Request) -> Response:
        def handler() -> Response:
            data = MoneyInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            payment = services.wallet_withdraw(
                user=current_user(request),
                amount_minor=parse_amount(data.validated_data["amount"]),
                currency=_currency_param(data.validated_data["currency"]),
                idempotency_key=request.headers.get("Idempotency-Key", "")[:255],
            )
            return Response(PaymentOutputSerializer(payment, context={"request": request}).data, status=201)

        return idempotent_response(request, scope="wallet.withdrawal", handler=handler, calls_provider=True)


class PaymentDetailApi(APIView):
    @extend_schema(responses=PaymentOutputSerializer)
    def get(self, request: Request, payment_id: int) -> Response:
        payment = selectors.payment_get_for_user(user=current_user(request), payment_id=payment_id)
        if payment is None:
            raise ApplicationError("No such payment.", code="not_found", status=404)
        return Response(PaymentOutputSerializer(payment, context={"request": request}).data)


class DepositLimitApi(APIView):
    """Deposit limits per 24 hours, 7 days, 30 days. Lowering applies at once; raising or
    removing (amount null) after a 24-hour cooling-off."""

    class InputSerializer(serializers.Serializer[Any]):
        period = serializers.ChoiceField(choices=DepositLimit.Period.choices)
        amount = serializers.JSONField(allow_null=True)
        currency = serializers.CharField(max_length=3, required=False, default="USD")

    class OutputSerializer(serializers.Serializer[Any]):
        period = serializers.CharField()
        amount = serializers.SerializerMethodField()
        pending_amount = serializers.SerializerMethodField()
        pending_is_removal = serializers.BooleanField()
        pending_effective_at = serializers.DateTimeField(allow_null=True)
        used = serializers.SerializerMethodField()

        def get_amount(self, view: LimitView) -> str | None:
            return None if view.amount_minor is None else minor_to_decimal(view.amount_minor)

        def get_pending_amount(self, view: LimitView) -> str | None:
            return None if view.pending_amount_minor is None else minor_to_decimal(view.pending_amount_minor)

        def get_used(self, view: LimitView) -> str:
            return minor_to_decimal(view.used_minor)

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        currency = _currency_param(request.query_params.get("currency"))
        views = selectors.deposit_limits_for_user(user=current_user(request), currency=currency)
        return Response(self.OutputSerializer(views, many=True).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer(many=True))
    def put(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        raw = data.validated_data["amount"]
        amount = None if raw is None else parse_amount(raw, allow_zero=True)
        currency = _currency_param(data.validated_data["currency"])
        services.deposit_limit_set(
            user=current_user(request),
            period=data.validated_data["period"],
            amount_minor=amount,
            currency=currency,
        )
        views = selectors.deposit_limits_for_user(user=current_user(request), currency=currency)
        return Response(self.OutputSerializer(views, many=True).data)


def _bounded_body(request: Request, *, limit: int) -> bytes:
    """The raw body, or 413 `payload_too_large` when it is over `limit` bytes (checked on the
    declared length first, so an oversized body is not read)."""
    too_large = ApplicationError(
        f"The request body is larger than {limit} bytes.",
        code="payload_too_large",
        status=413,
        details={"max_bytes": limit},
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large
    body = request.body  # the raw bytes, before any parsing
    if len(body) > limit:
        raise too_large
    return body


class PaymentWebhookApi(APIView):
    """Provider webhooks: the signature is checked on the raw body; no session, no CSRF."""

    authentication_classes: list[type[Any]] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type[Any]] = []

    @extend_schema(request=None, responses={200: None})
    def post(self, request: Request, provider: str) -> Response:
        body = _bounded_body(request, limit=settings.WALLET_WEBHOOK_MAX_BYTES)
        result = payment_webhook_receive(provider=provider, body=body, headers=request.headers)
        return Response({"received": True, **result})
