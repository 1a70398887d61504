"""The staff console for the ledger: read-only money, adjustments through the service, health."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from betthat.core.errors import ApplicationError
from wallet.health import ledger_report
from wallet.models import (
    Account,
    DepositLimit,
    IdempotencyKey,
    LedgerEntry,
    Payment,
    Transaction,
    WebhookEvent,
)
from wallet.money import format_minor
from wallet.services import wallet_adjust


class ReadOnlyAdminMixin:
    """Money rows are written by services only; the admin shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AdjustmentForm(forms.Form):
    amount = forms.CharField(
        max_length=24,
        help_text="Signed, e.g. 25.00 to credit the user or -25.00 to debit (against the house).",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def clean_amount(self) -> int:
        raw = self.cleaned_data["amount"].strip()
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise forms.ValidationError("Enter an amount such as 25.00 or -25.00.") from None
        if not value.is_finite() or value.as_tuple().exponent < -2 or value == 0:
            raise forms.ValidationError("Use a non-zero amount with at most two decimals.")
        return int(value.scaleb(2))


@admin.register(Account)
class AccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "owner", "kind", "currency", "balance", "status", "updated_at")
    list_filter = ("kind", "currency", "status")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    actions = ["adjust_balance"]
    change_list_template = "wallet/admin/account_change_list.html"

    @admin.display(description="owner")
    def owner(self, account):
        return account.user.email if account.user_id else "system"

    @admin.display(description="balance", ordering="balance_minor")
    def balance(self, account):
        return format_minor(account.balance_minor)

    @admin.action(description="Adjust the balance (staff adjustment with a reason)")
    def adjust_balance(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one user cash account to adjust.", messages.ERROR)
            return None
        return redirect(reverse("admin:wallet_account_adjust", args=[queryset.get().pk]))

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_staff:
            actions.pop("adjust_balance", None)
        return actions

    def get_urls(self):
        extra = [
            path(
                "<int:account_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="wallet_account_adjust",
            ),
            path("ledger-health/", self.admin_site.admin_view(self.health_view), name="wallet_ledger_health"),
        ]
        return extra + super().get_urls()

    def adjust_view(self, request, account_id: int):
        account = get_object_or_404(Account, pk=account_id)
        if account.user_id is None or account.kind != Account.Kind.CASH:
            self.message_user(request, "Only a user's cash account can be adjusted.", messages.ERROR)
            return redirect("admin:wallet_account_changelist")
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                tx = wallet_adjust(
                    user=account.user,
                    amount_minor=form.cleaned_data["amount"],
                    currency=account.currency,
                    reason=form.cleaned_data["reason"],
                    staff=request.user,
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(request, f"Adjustment booked as transaction #{tx.pk}.", messages.SUCCESS)
                return redirect("admin:wallet_transaction_change", tx.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust {account}",
            "account": account,
            "balance": format_minor(account.balance_minor),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "wallet/admin/adjust.html", context)

    def health_view(self, request):
        report = ledger_report()
        context = {
            **self.admin_site.each_context(request),
            "title": "Ledger health",
            "report": report,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "wallet/admin/ledger_health.html", context)


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    extra = 0
    can_delete = False
    fields = ("id", "account", "entry_type", "signed_amount", "ref_type", "ref_id", "created_at")
    readonly_fields = fields

    @admin.display(description="amount")
    def signed_amount(self, entry):
        return format_minor(entry.amount_minor)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, tx):
        return format_minor(tx.amount_minor)


class WebhookEventInline(admin.TabularInline):
    model = WebhookEvent
    extra = 0
    can_delete = False
    fields = ("received_at", "event_type", "event_id", "outcome")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "user", "direction", "amount", "currency", "provider", "status_badge", "created_at")
    list_filter = ("direction", "status", "provider", "currency")
    search_fields = ("user__email", "provider_transaction_id", "=id")
    list_select_related = ("user",)
    inlines = [WebhookEventInline]
    readonly_fields = [f.name for f in Payment._meta.fields]

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, payment):
        return format_minor(payment.amount_minor)

    @admin.display(description="status", ordering="status")
    def status_badge(self, payment):
        colour = {"succeeded": "#3fb950", "failed": "#f85149"}.get(payment.status, "#d29922")
        return format_html('<b style="color:{}">{}</b>', colour, payment.get_status_display())


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "provider", "event_type", "event_id", "payment", "outcome", "received_at")
    list_filter = ("provider", "event_type", "outcome")
    search_fields = ("event_id",)


@admin.register(DepositLimit)
class DepositLimitAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
class IdempotencyKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "key", "scope", "status_code", "created_at")
    search_fields = ("user__email", "key")
    list_filter = ("scope",)
