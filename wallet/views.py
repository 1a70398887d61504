"""Wallet pages: balances, the balance chart, history, deposit (sandbox checkout), withdraw,
deposit limits. Thin: every write is a service call, every read a selector."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from betthat.core.errors import ApplicationError, error_body
from betthat.users.http import current_user
from betthat.users.reauth import reauthentication_required
from wallet import exports, selectors, services
from wallet.charts import balance_chart_svg
from wallet.models import DepositLimit, Payment, Transaction
from wallet.money import format_minor, parse_amount
from wallet.providers import sandbox, sandbox_is_enabled

PAGE_SIZE = 20


def _currency(request: HttpRequest) -> str:
    currency = request.GET.get("currency") or request.POST.get("currency") or settings.DEFAULT_CURRENCY
    return currency if currency in settings.CURRENCIES else settings.DEFAULT_CURRENCY


def _error_text(error: ApplicationError) -> str:
    details = error.details or {}
    if error.code == "insufficient_funds" and "available" in details:
        return f"{error.message} Available: {details['available']} {details.get('currency', '')}."
    if error.code == "limit_exceeded" and "remaining" in details:
        return f"{error.message} You can still deposit {details['remaining']} {details.get('currency', '')}."
    return error.message


def _history_context(request: HttpRequest, *, user: Any) -> dict[str, Any]:
    type_filter = request.GET.get("type") or ""
    status_filter = request.GET.get("status") or ""
    queryset = selectors.transaction_list_for_user(
        user=user,
        type=type_filter if type_filter in Transaction.Type.values else None,
        status=status_filter if status_filter in Transaction.Status.values else None,
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "page": page,
        "type_filter": type_filter,
        "status_filter": status_filter,
        "types": Transaction.Type.choices,
        "statuses": Transaction.Status.choices,
    }


def _live_context(*, user: Any, currency: str) -> dict[str, Any]:
    balances = selectors.wallet_balances_for_user(user=user, currency=currency)
    payments = selectors.payment_list_for_user(user=user, limit=5)
    return {
        "balances": balances,
        "available": format_minor(balances.available_minor),
        "held": format_minor(balances.held_minor),
        "total": format_minor(balances.total_minor),
        "payments": payments,
        "pending_ids": ",".join(str(p.pk) for p in payments if not p.is_terminal),
    }


@login_required
def index(request: HttpRequest) -> HttpResponse:
    currency = _currency(request)
    context = {
        "currency": currency,
        "currencies": settings.CURRENCIES,
        "chart": balance_chart_svg(
            selectors.balance_history_for_user(user=current_user(request), currency=currency),
            currency=currency,
        ),
        "idempotency_key": uuid.uuid4().hex,
        "export_start": timezone.now().date() - timedelta(days=exports.DEFAULT_DAYS),
        "export_end": timezone.now().date(),
        **_live_context(user=current_user(request), currency=currency),
        **_history_context(request, user=current_user(request)),
    }
    return render(request, "wallet/index.html", context)


MAX_WATCHED = 20
_PAYMENT_ID = re.compile(r"[0-9]{1,18}", re.ASCII)


def _watched_ids(raw: str) -> list[int] | None:
    """'12,15' -> [12, 15]; None when anything in it is not a payment id (ASCII digits only:
    '٣' or '²' would pass str.isdigit)."""
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if len(parts) > MAX_WATCHED or not all(_PAYMENT_ID.fullmatch(part) for part in parts):
        return None
    return [int(part) for part in parts]


@login_required
def live(request: HttpRequest) -> HttpResponse:
    """The balances and recent payments (polled by htmx while a payment is in flight). When
    every watched payment has finished, the whole page refreshes (chart and history too)."""
    currency = _currency(request)
    context = _live_context(user=current_user(request), currency=currency)
    context["currency"] = currency
    watched = _watched_ids(request.GET.get("watch", ""))
    if watched is None:
        return JsonResponse(
            error_body(
                "validation_error",
                "watch must be a comma-separated list of payment ids.",
                {"watch": ["Use payment ids such as 12,15 (at most 20)."]},
            ),
            status=400,
        )
    response = render(request, "wallet/_live.html", context)
    if (
        watched
        and not Payment.objects.filter(user_id=current_user(request).pk, pk__in=watched)
        .exclude(status__in=Payment.TERMINAL)
        .exists()
    ):
        response["HX-Refresh"] = "true"
    return response


@login_required
def history(request: HttpRequest) -> HttpResponse:
    context = _history_context(request, user=current_user(request))
    template = (
        "wallet/_history.html" if request.headers.get("HX-Request") == "true" else "wallet/history.html"
    )
    return render(request, template, context)


@login_required
@require_POST
def deposit(request: HttpRequest) -> HttpResponse:
    try:
        payment = services.wallet_deposit_start(
            user=current_user(request),
            amount_minor=parse_amount(request.POST.get("amount")),
            currency=_currency(request),
            idempotency_key=(request.POST.get("idempotency_key") or "")[:255],
            return_url=request.build_absolute_uri(reverse("wallet:index")),
        )
    except ApplicationError as error:
        messages.error(request, f"Deposit refused: {_error_text(error)}", extra_tags="field-deposit")
        return redirect(reverse("wallet:index") + "#deposit")
    if payment.is_terminal:
        messages.info(request, f"That deposit was already {payment.status}.")
        return redirect("wallet:index")
    if not payment.checkout_url:
        messages.info(request, "Your deposit is waiting for the payment provider.")
        return redirect(f"{reverse('wallet:index')}?watch={payment.pk}")
    return redirect(payment.checkout_url)


def _withdraw(request: HttpRequest) -> HttpResponse:
    """Money leaves the platform: the user confirms their password (or an authenticator code
    with MFA) first, unless they did within the last few minutes (allauth's
    ACCOUNT_REAUTHENTICATION_TIMEOUT). The form's POST is kept and resumed after."""
    try:
        payment = services.wallet_withdraw(
            user=current_user(request),
            amount_minor=parse_amount(request.POST.get("amount")),
            currency=_currency(request),
            idempotency_key=(request.POST.get("idempotency_key") or "")[:255],
        )
    except ApplicationError as error:
        messages.error(request, f"Withdrawal refused: {_error_text(error)}", extra_tags="field-withdraw")
        return redirect(reverse("wallet:index") + "#withdraw")
    messages.success(
        request,
        f"Withdrawal of {format_minor(payment.amount_minor)} {payment.currency} requested: "
        "the funds are held until the provider pays them out.",
    )
    return redirect(f"{reverse('wallet:index')}?watch={payment.pk}")


@login_required
@require_GET
def export(request: HttpRequest) -> HttpResponseBase:
    """The user's wallet transactions of a date range as a CSV download, streamed."""
    try:
        start, end = exports.date_range(request.GET.get("start"), request.GET.get("end"))
    except ApplicationError as error:
        problems = " ".join(" ".join(v) for v in error.details.values())
        messages.error(request, f"Export refused: {error.message} {problems}")
        return redirect(reverse("wallet:index") + "#export")
    rows = selectors.transaction_export_for_user(user=current_user(request), start=start, end=end)
    response = StreamingHttpResponse(exports.user_transactions_csv(rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{exports.filename("wallet", start, end)}"'
    return response


# Signed in, then a recent password (or code) confirmation: betthat/users/reauth.py.
withdraw: Callable[[HttpRequest], HttpResponse] = reauthentication_required(require_POST(_withdraw))


class LimitForm(forms.Form):
    period = forms.ChoiceField(choices=DepositLimit.Period.choices)
    amount = forms.CharField(required=False, max_length=40, help_text="Leave empty to remove the limit.")


@login_required
@require_http_methods(["GET", "POST"])
def limits(request: HttpRequest) -> HttpResponse:
    currency = _currency(request)
    if request.method == "POST":
        form = LimitForm(request.POST)
        if form.is_valid():
            raw = form.cleaned_data["amount"].strip()
            try:
                amount = None if raw == "" else parse_amount(raw, allow_zero=True)
                limit = services.deposit_limit_set(
                    user=current_user(request),
                    period=form.cleaned_data["period"],
                    amount_minor=amount,
                    currency=currency,
                )
            except ApplicationError as error:
                messages.error(request, _error_text(error))
            else:
                if limit.pending_effective_at:
                    messages.info(
                        request,
                        f"Raising or removing a limit takes effect after a 24-hour cooling-off "
                        f"({limit.pending_effective_at:%Y-%m-%d %H:%M} UTC).",
                    )
                else:
                    messages.success(request, "Your deposit limit is in force now.")
            return redirect("wallet:limits")
    views = selectors.deposit_limits_for_user(user=current_user(request), currency=currency)
    return render(
        request,
        "wallet/limits.html",
        {"limits": views, "currency": currency, "form": LimitForm()},
    )


class CheckoutForm(forms.Form):
    card_number = forms.CharField(max_length=23, initial="4242 4242 4242 4242")
    duplicates = forms.IntegerField(min_value=1, max_value=10, initial=1)
    out_of_order = forms.BooleanField(required=False)


@login_required
@require_http_methods(["GET", "POST"])
def sandbox_checkout(request: HttpRequest, payment_id: int) -> HttpResponse:
    """The sandbox provider's hosted checkout page (a real provider would host it). Absent
    (404) unless the sandbox is the configured provider."""
    if not sandbox_is_enabled():
        raise Http404("No such checkout.")
    payment = selectors.payment_get_for_user(user=current_user(request), payment_id=payment_id)
    if payment is None or payment.provider != "sandbox" or payment.direction != Payment.Direction.DEPOSIT:
        raise Http404("No such checkout.")
    form = CheckoutForm(request.POST or None)
    if request.method == "POST" and not payment.is_terminal and form.is_valid():
        try:
            outcome = sandbox.checkout_submit(
                payment,
                card_number=form.cleaned_data["card_number"],
                duplicates=form.cleaned_data["duplicates"],
                out_of_order=form.cleaned_data["out_of_order"],
            )
        except ApplicationError as error:
            form.add_error("card_number", _error_text(error))
        else:
            if outcome == "succeeded":
                messages.success(request, "Payment authorised: your deposit is being confirmed.")
            else:
                messages.error(request, "Your card was declined.")
            return redirect(f"{reverse('wallet:index')}?watch={payment.pk}")
    return render(
        request,
        "wallet/sandbox_checkout.html",
        {"payment": payment, "form": form, "amount": format_minor(payment.amount_minor)},
    )
