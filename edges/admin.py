from django.contrib import admin

from betthat.core.formatting import format_percent
from edges.models import (
    Edge,
    EdgeAlert,
    EdgeAlertHit,
    Event,
    FeedState,
    Market,
    OddsHistory,
    OddsQuote,
    Outcome,
    Sport,
    Sportsbook,
)


@admin.register(Sportsbook)
class SportsbookAdmin(admin.ModelAdmin):
    list_display = ["key", "title", "region", "is_sharp", "latency_tier", "freshness_seconds", "is_active"]
    list_editable = ["is_sharp", "freshness_seconds", "is_active"]


@admin.register(Sport)
class SportAdmin(admin.ModelAdmin):
    list_display = ["key", "title", "is_active"]


class FeedWrittenAdmin(admin.ModelAdmin):
    """Market data that only the feeds (and the edge finder) write: staff read and correct
    it, but never add rows by hand."""

    def has_add_permission(self, request):
        return False


@admin.register(Event)
class EventAdmin(FeedWrittenAdmin):
    list_display = ["__str__", "sport", "commence_time", "status", "home_score", "away_score"]
    list_filter = ["status", "sport"]
    search_fields = ["provider_id", "home_team", "away_team"]
    date_hierarchy = "commence_time"
    readonly_fields = ["provider_id", "started_at", "finished_at", "scores"]


@admin.register(Market)
class MarketAdmin(FeedWrittenAdmin):
    list_display = ["__str__", "event", "period", "is_suspended"]
    list_filter = ["key", "is_suspended"]
    raw_id_fields = ["event"]


@admin.register(Outcome)
class OutcomeAdmin(FeedWrittenAdmin):
    list_display = ["__str__", "market"]
    raw_id_fields = ["market"]


@admin.register(OddsQuote)
class OddsQuoteAdmin(FeedWrittenAdmin):
    list_display = [
        "outcome",
        "sportsbook",
        "price_decimal",
        "price_american",
        "last_update",
        "version",
        "is_suspended",
    ]
    list_filter = ["sportsbook", "is_suspended"]
    raw_id_fields = ["outcome"]


@admin.register(OddsHistory)
class OddsHistoryAdmin(FeedWrittenAdmin):
    list_display = ["outcome", "sportsbook", "price_decimal", "recorded_at"]
    raw_id_fields = ["outcome"]

    def has_change_permission(self, request, obj=None):
        return False  # append-only


@admin.register(Edge)
class EdgeAdmin(FeedWrittenAdmin):
    list_display = [
        "edge_id",
        "kind",
        "status",
        "side",
        "sportsbook",
        "edge_display",
        "ev_display",
        "discovered_at",
    ]
    list_filter = ["kind", "status", "sport_key", "market_type"]
    search_fields = ["edge_id", "side", "player"]
    raw_id_fields = ["event", "market", "outcome"]
    ordering = ["-discovered_at"]

    @admin.display(description="edge %", ordering="edge_percentage")
    def edge_display(self, edge):
        return format_percent(edge.edge_percentage, 2)

    @admin.display(description="EV %", ordering="expected_value_per_dollar")
    def ev_display(self, edge):
        return format_percent(edge.expected_value_per_dollar, 2)


@admin.register(FeedState)
class FeedStateAdmin(admin.ModelAdmin):
    """Where each polled feed stands (read only: the poller writes it)."""

    list_display = [
        "key",
        "last_success_at",
        "next_poll_at",
        "consecutive_failures",
        "last_status",
        "last_error",
        "parts_skipped",
        "requests_remaining",
        "requests_used",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class EdgeAlertHitInline(admin.TabularInline):
    model = EdgeAlertHit
    extra = 0
    fields = ["edge", "delivery", "created_at"]
    readonly_fields = ["edge", "delivery", "created_at"]
    can_delete = False
    ordering = ["-created_at"]
    max_num = 0
    show_change_link = False


@admin.register(EdgeAlert)
class EdgeAlertAdmin(admin.ModelAdmin):
    """Bettors' saved edge alerts: staff can see, pause or remove one (e.g. on a complaint
    about emails); the matches are listed read-only."""

    list_display = [
        "name",
        "user",
        "sport_key",
        "kind",
        "min_ev",
        "sportsbook_key",
        "send_email",
        "is_active",
        "created_at",
    ]
    list_filter = ["is_active", "send_email", "kind"]
    list_select_related = ["user"]
    search_fields = ["user__email", "name", "sport_key", "sportsbook_key"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [EdgeAlertHitInline]
