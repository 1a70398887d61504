"""The staff console for the ledger: read-only money, adjustments through the service, health."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from betthat.core.admin import decide_each
from betthat.core.errors import ApplicationError
from betthat.users.http import current_user
from wallet import exports, selectors
from wallet.health import ledger_report
from wallet.models import (
    Account,
    Adjustment,
    DepositLimit,
    IdempotencyKey,
    LedgerEntry,
    Payment,
    Transaction,
    WebhookEvent,
)
from wallet.money import format_minor, parse_signed_amount
from wallet.providers import sandbox_is_enabled
from wallet.services import adjustment_approve, adjustment_reject, wallet_adjust
from wallet.services.common import staff_audit
from wallet.services.reversals import sandbox_reversal_trigger

if TYPE_CHECKING:  # generic in django-stubs, not at runtime (no django_stubs_ext monkeypatch)
    ModelAdmin = admin.ModelAdmin[Any]
    TabularInline = admin.TabularInline[Any, Any]
else:
    ModelAdmin = admin.ModelAdmin
    TabularInline = admin.TabularInline

ADJUST_PERMISSION = "wallet.adjust_account"
HEALTH_PERMISSION = "wallet.view_ledger_health"
EXPORT_PERMISSION = "wallet.export_transactions"


class ReadOnlyAdminMixin:
    """Money rows are written by services only; the admin shows them."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class AdjustmentForm(forms.Form):
    amount = forms.CharField(
        max_length=24,
        help_text="Signed, e.g. 25.00 to credit the user or -25.00 to debit (against the house).",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def clean_amount(self) -> int:
        try:
            return parse_signed_amount(self.cleaned_data["amount"])
        except ApplicationError as error:
            raise forms.ValidationError(
                f"{error.message} Use a non-zero amount such as 25.00 or -25.00."
            ) from None


class ExportForm(forms.Form):
    start = forms.DateField(label="From (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("The start date must not be after the end date.")
        return data


def _require(request: HttpRequest, permission: str) -> None:
    """Staff powers over money each need their own permission (is_staff is not enough)."""
    if not request.user.has_perm(permission):
        raise PermissionDenied(f"This needs the '{permission}' permission.")


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("id", "owner", "kind", "currency", "balance", "status", "updated_at")
    list_filter = ("kind", "currency", "status")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    actions = ["adjust_balance"]
    change_list_template = "wallet/admin/account_change_list.html"

    @admin.display(description="owner")
    def owner(self, account: Account) -> str:
        return account.user.email if account.user_id and account.user else "system"

    @admin.display(description="balance", ordering="balance_minor")
    def balance(self, account: Account) -> str:
        return format_minor(account.balance_minor)

    def has_adjust_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(ADJUST_PERMISSION))

    @admin.action(description="Adjust the balance (staff adjustment with a reason)", permissions=["adjust"])
    def adjust_balance(self, request: HttpRequest, queryset: QuerySet[Account]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one user cash account to adjust.", messages.ERROR)
            return None
        return redirect(reverse("admin:wallet_account_adjust", args=[queryset.get().pk]))

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<int:account_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="wallet_account_adjust",
            ),
            path("ledger-health/", self.admin_site.admin_view(self.health_view), name="wallet_ledger_health"),
        ]
        return extra + super().get_urls()

    def adjust_view(self, request: HttpRequest, account_id: int) -> HttpResponse:
        _require(request, ADJUST_PERMISSION)
        account = get_object_or_404(Account, pk=account_id)
        if account.user_id is None or account.kind != Account.Kind.CASH:
            self.message_user(request, "Only a user's cash account can be adjusted.", messages.ERROR)
            return redirect("admin:wallet_account_changelist")
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                owner = account.user
                assert owner is not None  # checked above: a user's cash account
                adjustment = wallet_adjust(
                    user=owner,
                    amount_minor=form.cleaned_data["amount"],
                    currency=account.currency,
                    reason=form.cleaned_data["reason"],
                    staff=current_user(request),
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                if adjustment.transaction_id is not None:
                    self.message_user(
                        request,
                        f"Adjustment booked as transaction #{adjustment.transaction_id}.",
                        messages.SUCCESS,
                    )
                    return redirect("admin:wallet_transaction_change", adjustment.transaction_id)
                threshold = format_minor(settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR)
                why = {
                    "amount": f"is above {threshold}",
                    "staff_total": f"would take your grants of the last "
                    f"{settings.WALLET_STAFF_GRANT_WINDOW_HOURS} hours above {threshold}",
                    "account_total": f"would take this account's staff grants of the last "
                    f"{settings.WALLET_STAFF_GRANT_WINDOW_HOURS} hours above {threshold}",
                }.get(adjustment.approval_reason, f"is above {threshold}")
                self.message_user(
                    request,
                    f"Adjustment #{adjustment.pk} {why} and waits for a second staff member's approval.",
                    messages.WARNING,
                )
                return redirect("admin:wallet_adjustment_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust {account}",
            "account": account,
            "balance": format_minor(account.balance_minor),
            "approval_above": format_minor(settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "wallet/admin/adjust.html", context)

    def health_view(self, request: HttpRequest) -> HttpResponse:
        _require(request, HEALTH_PERMISSION)
        report = ledger_report()
        staff_audit({"action": "ledger_health.viewed", "staff_id": request.user.pk, "ok": report.ok})
        context = {
            **self.admin_site.each_context(request),
            "title": "Ledger health",
            "report": report,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "wallet/admin/ledger_health.html", context)


@admin.register(Adjustment)
class AdjustmentAdmin(ModelAdmin):
    """Staff adjustments; those above the threshold wait here for a second staff member."""

    list_display = (
        "id",
        "user",
        "signed_amount",
        "currency",
        "status",
        "approval_reason",
        "requested_by",
        "decided_by",
        "created_at",
    )
    list_filter = ("status", "currency", "approval_reason")
    search_fields = ("user__email", "requested_by__email", "reason")
    list_select_related = ("user", "requested_by", "decided_by")
    readonly_fields = [f.name for f in Adjustment._meta.fields]
    actions = ["approve", "reject"]

    @admin.display(description="amount", ordering="amount_minor")
    def signed_amount(self, adjustment: Adjustment) -> str:
        return format_minor(adjustment.amount_minor)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # requested from the account's "Adjust" page, through the service

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return bool(request.user.has_perm(ADJUST_PERMISSION) or super().has_view_permission(request, obj))

    def has_adjust_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(ADJUST_PERMISSION))

    @admin.action(description="Approve and book (second staff member)", permissions=["adjust"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Adjustment]) -> None:
        staff = current_user(request)
        decide_each(
            self,
            request,
            queryset,
            lambda pk: adjustment_approve(adjustment_id=pk, staff=staff),
            "approved and booked",
        )

    @admin.action(description="Reject (no money moves)", permissions=["adjust"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Adjustment]) -> None:
        staff = current_user(request)
        decide_each(
            self, request, queryset, lambda pk: adjustment_reject(adjustment_id=pk, staff=staff), "rejected"
        )


class LedgerEntryInline(TabularInline):
    model = LedgerEntry
    extra = 0
    can_delete = False
    fields = ("id", "account", "entry_type", "signed_amount", "ref_type", "ref_id", "created_at")
    readonly_fields = fields

    @admin.display(description="amount")
    def signed_amount(self, entry: LedgerEntry) -> str:
        return format_minor(entry.amount_minor)

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = (
        "id",
        "user",
        "type",
        "status",
        "amount",
        "currency",
        "bet_id",
        "created_by",
        "created_at",
    )
    list_filter = ("type", "status", "currency")
    search_fields = ("user__email", "external_reference", "=bet_id", "=id")
    list_select_related = ("user", "created_by")
    inlines = [LedgerEntryInline]
    readonly_fields = [f.name for f in Transaction._meta.fields]

    change_list_template = "wallet/admin/transaction_change_list.html"

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, tx: Transaction) -> str:
        return format_minor(tx.amount_minor)

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path("export/", self.admin_site.admin_view(self.export_view), name="wallet_transaction_export")
        ]
        return extra + super().get_urls()

    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        """Every transaction of a date range as CSV, streamed (regulatory reporting)."""
        _require(request, EXPORT_PERMISSION)
        form = ExportForm(request.GET or None)
        if form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            staff_audit(
                {
                    "action": "transactions.exported",
                    "staff_id": request.user.pk,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                }
            )
            rows = selectors.transaction_export_all(start=start, end=end)
            response = StreamingHttpResponse(exports.all_transactions_csv(rows), content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="transactions-{start}-to-{end}.csv"'
            return response
        context = {
            **self.admin_site.each_context(request),
            "title": "Export transactions",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "wallet/admin/export.html", context)


class WebhookEventInline(TabularInline):
    model = WebhookEvent
    extra = 0
    can_delete = False
    fields = ("received_at", "event_type", "event_id", "outcome")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("id", "user", "direction", "amount", "currency", "provider", "status_badge", "created_at")
    list_filter = ("direction", "status", "provider", "currency")
    search_fields = ("user__email", "provider_transaction_id", "=id")
    list_select_related = ("user",)
    inlines = [WebhookEventInline]
    readonly_fields = [f.name for f in Payment._meta.fields]
    actions = ["sandbox_refund", "sandbox_dispute_open", "sandbox_dispute_won", "sandbox_dispute_lost"]

    def has_adjust_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(ADJUST_PERMISSION)) and sandbox_is_enabled()

    def _sandbox(self, request: HttpRequest, queryset: QuerySet[Payment], action: str) -> None:
        sent = 0
        for payment in queryset:
            try:
                sent += sandbox_reversal_trigger(payment=payment, action=action, staff=current_user(request))
            except ApplicationError as error:
                self.message_user(request, f"Payment {payment.pk}: {error.message}", messages.ERROR)
        self.message_user(request, f"The sandbox sent {sent} event(s).", messages.SUCCESS)

    @admin.action(description="Sandbox: refund the deposit", permissions=["adjust"])
    def sandbox_refund(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        self._sandbox(request, queryset, "refund")

    @admin.action(description="Sandbox: open a dispute (chargeback)", permissions=["adjust"])
    def sandbox_dispute_open(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        self._sandbox(request, queryset, "dispute_open")

    @admin.action(description="Sandbox: close its disputes as won", permissions=["adjust"])
    def sandbox_dispute_won(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        self._sandbox(request, queryset, "dispute_won")

    @admin.action(description="Sandbox: close its disputes as lost", permissions=["adjust"])
    def sandbox_dispute_lost(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        self._sandbox(request, queryset, "dispute_lost")

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, payment: Payment) -> str:
        return format_minor(payment.amount_minor)

    @admin.display(description="status", ordering="status")
    def status_badge(self, payment: Payment) -> str:
        # a class from static/css/admin.css: the CSP refuses inline styles
        tone = {"succeeded": "succeeded", "failed": "failed"}.get(payment.status, "pending")
        return format_html('<b class="bt-payment-{}">{}</b>', tone, payment.get_status_display())


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("id", "provider", "event_type", "event_id", "payment", "outcome", "received_at")
    list_filter = ("provider", "event_type", "outcome")
    search_fields = ("event_id",)


@admin.register(DepositLimit)
class DepositLimitAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = (
        "user",
        "period",
        "currency",
        "amount_minor",
        "pending_amount_minor",
        "pending_effective_at",
    )
    list_filter = ("period",)
    search_fields = ("user__email",)


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("user", "key", "scope", "status_code", "created_at")
    search_fields = ("user__email", "key")
    list_filter = ("scope",)
