"""Staff console for bets: legs inline, filters, settle or void with a reason (through the
services), and the exposure per event and market from the Redis aggregates."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from betthat.core.admin import decide_each
from betthat.core.errors import ApplicationError
from betthat.core.formatting import format_money, format_percent
from betting import exposure
from betting.models import Bet, BetLeg, LimitChange, ManualSettlement, SameGameQuote
from betting.services import (
    bet_settle,
    bet_void,
    exposure_rebuild_by_staff,
    manual_settlement_approve,
    manual_settlement_reject,
)
from edges.models import Event, Market


class BetLegInline(admin.TabularInline):
    model = BetLeg
    extra = 0
    can_delete = False
    fields = (
        "position",
        "event",
        "market",
        "outcome",
        "leg_type",
        "point",
        "price_decimal",
        "result",
        "closing_price_decimal",
        "closing_fair_probability",
        "attributes",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class StaffSettleForm(forms.Form):
    result = forms.ChoiceField(
        choices=Bet.Result.choices, help_text="The result of the whole bet; void refunds the stake."
    )
    reason = forms.CharField(max_length=250, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(Bet)
class BetAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "kind",
        "market_type",
        "sportsbook_id",
        "stake_display",
        "odds_decimal",
        "status",
        "result",
        "net_profit_display",
        "clv_display",
        "placed_at",
        "settle_link",
    )
    list_filter = (
        "status",
        "result",
        "kind",
        "market_type",
        "sportsbook",
        "sport_key",
        "placed_at",
        ("settlement_failed_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("=id", "user__email", "external_id", "edge_id", "idempotency_key")
    date_hierarchy = "placed_at"
    list_select_related = ("user",)
    inlines = [BetLegInline]
    readonly_fields = [field.name for field in Bet._meta.fields]
    ordering = ("-placed_at",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="stake", ordering="stake_minor")
    def stake_display(self, bet):
        return format_money(bet.stake_minor, bet.currency)

    @admin.display(description="net", ordering="net_profit_minor")
    def net_profit_display(self, bet):
        return (
            ""
            if bet.net_profit_minor is None
            else format_money(bet.net_profit_minor, bet.currency, signed=True)
        )

    @admin.display(description="CLV %")
    def clv_display(self, bet):
        return "" if bet.clv_percent is None else format_percent(bet.clv_percent, 2, signed=True)

    @admin.display(description="action")
    def settle_link(self, bet):
        if bet.status == Bet.Status.PLACING:
            return format_html(
                '<a href="{}">placing: check and void</a>', reverse("admin:betting_bet_settle", args=[bet.pk])
            )
        if bet.status != Bet.Status.PENDING:
            return ""
        if bet.settlement_failed_at is not None:
            return format_html(
                '<a href="{}">settlement failed: settle / void</a>',
                reverse("admin:betting_bet_settle", args=[bet.pk]),
            )
        return format_html(
            '<a href="{}">settle / void</a>', reverse("admin:betting_bet_settle", args=[bet.pk])
        )

    def get_urls(self):
        return [
            path("exposure/", self.admin_site.admin_view(self.exposure_view), name="betting_bet_exposure"),
            path(
                "<int:bet_id>/settle/",
                self.admin_site.admin_view(self.settle_view),
                name="betting_bet_settle",
            ),
            *super().get_urls(),
        ]

    def settle_view(self, request, bet_id: int):
        # Each action has its own permission (and the services check it again): settling
        # needs betting.settle_bet, voiding betting.void_bet; "change" is not enough.
        bet = get_object_or_404(Bet.objects.select_related("user"), pk=bet_id)
        can_settle = request.user.has_perm("betting.settle_bet")
        can_void = request.user.has_perm("betting.void_bet")
        if not (can_settle or can_void):
            raise PermissionDenied
        if bet.user_id == request.user.pk:
            messages.error(request, "Staff cannot settle or void their own bets: ask a colleague.")
            return redirect("admin:betting_bet_change", bet_id)
        form = StaffSettleForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                if form.cleaned_data["result"] == Bet.Result.VOID:
                    bet_void(bet_id=bet.pk, staff=request.user, reason=form.cleaned_data["reason"])
                else:
                    settled = bet_settle(
                        bet_id=bet.pk,
                        result=form.cleaned_data["result"],
                        staff=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                    if settled.status == Bet.Status.PENDING:
                        messages.warning(
                            request,
                            f"Bet #{bet.pk}: the winnings need a second staff member's approval "
                            "(their size, or your or this account's staff grants of the last "
                            f"{settings.WALLET_STAFF_GRANT_WINDOW_HOURS} hours). It waits under "
                            "Manual settlements.",
                        )
                        return redirect("admin:betting_manualsettlement_changelist")
            except ApplicationError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request, f"Bet #{bet.pk} is now {form.cleaned_data['result'].replace('_', ' ')}."
                )
                return redirect("admin:betting_bet_change", bet.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Settle or void bet #{bet.pk}",
            "bet": bet,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "betting/admin/settle.html", context)

    def exposure_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("rebuild"):
            if not request.user.has_perm("betting.rebuild_exposure"):
                raise PermissionDenied
            count = exposure_rebuild_by_staff(staff=request.user)
            messages.success(request, f"Exposure rebuilt from the database: {count} events with open bets.")
            return redirect("admin:betting_bet_exposure")
        top = exposure.exposure_top_events(limit=50)
        events = Event.objects.in_bulk([event_id for event_id, _ in top])
        rows = []
        for event_id, liability in top:
            markets = exposure.exposure_for_event(event_id)
            if not markets:
                continue
            names = Market.objects.in_bulk(list(markets))
            rows.append(
                {
                    "event": events.get(event_id),
                    "event_id": event_id,
                    "liability_minor": liability,
                    "markets": [
                        {"market": names.get(market_id), "market_id": market_id, **values}
                        for market_id, values in sorted(
                            markets.items(), key=lambda item: -item[1]["liability"]
                        )
                    ],
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Exposure by event and market",
            "rows": rows,
            "can_rebuild": request.user.has_perm("betting.rebuild_exposure"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "betting/admin/exposure.html", context)


@admin.register(SameGameQuote)
class SameGameQuoteAdmin(admin.ModelAdmin):
    list_display = ("id", "sportsbook", "event", "selection_key", "price_decimal", "updated_at")
    list_filter = ("sportsbook",)
    search_fields = ("selection_key", "event__home_team", "event__away_team")
    raw_id_fields = ("event",)


@admin.register(LimitChange)
class LimitChangeAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "field",
        "amount_minor",
        "currency",
        "requested_at",
        "effective_at",
        "applied_at",
        "cancelled_at",
    )
    list_filter = ("field",)
    search_fields = ("user__email",)
    readonly_fields = [field.name for field in LimitChange._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ManualSettlement)
class ManualSettlementAdmin(admin.ModelAdmin):
    """Manual settlements whose winnings wait for a second staff member (betting.settle_bet)."""

    list_display = (
        "id",
        "bet",
        "result",
        "winnings",
        "approval_reason",
        "status",
        "requested_by",
        "decided_by",
        "created_at",
    )
    list_filter = ("status", "approval_reason")
    list_select_related = ("bet", "requested_by", "decided_by")
    readonly_fields = [f.name for f in ManualSettlement._meta.fields]
    actions = ["approve", "reject"]

    @admin.display(description="winnings", ordering="winnings_minor")
    def winnings(self, request_row):
        return format_money(request_row.winnings_minor, request_row.bet.currency)

    def has_add_permission(self, request, obj=None):
        return False  # requested from the bet's settle page, through the service

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return bool(request.user.has_perm("betting.settle_bet") or super().has_view_permission(request, obj))

    def has_settle_permission(self, request):
        return bool(request.user.has_perm("betting.settle_bet"))

    @admin.action(description="Approve and settle (second staff member)", permissions=["settle"])
    def approve(self, request, queryset):
        decide_each(
            self,
            request,
            queryset,
            lambda pk: manual_settlement_approve(settlement_id=pk, staff=request.user),
            "approved and settled",
        )

    @admin.action(description="Reject (the bet stays pending)", permissions=["settle"])
    def reject(self, request, queryset):
        decide_each(
            self,
            request,
            queryset,
            lambda pk: manual_settlement_reject(settlement_id=pk, staff=request.user),
            "rejected",
        )
