"""Read-only models over the monitoring views (created by migration 0001, never by Django).

Every model here is `managed = False`: Django neither creates nor alters these relations,
and nothing writes to them. Money columns are integer minor units in `currency`.
"""

from __future__ import annotations

from django.db import models


class ActiveEdge(models.Model):
    """`active_edges`: one row per edge currently active on the board."""

    edge_id = models.CharField(max_length=40)
    kind = models.CharField(max_length=12)
    sport_key = models.CharField(max_length=60)
    event_id = models.BigIntegerField()
    sportsbook_id = models.BigIntegerField(null=True)
    edge_percentage = models.FloatField()
    expected_value_per_dollar = models.FloatField()
    discovered_at = models.DateTimeField()
    stale_after = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "active_edges"
        verbose_name = "active edge"
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.kind} {self.edge_id}"


class UserBetStats(models.Model):
    """`user_bet_stats`: each bettor's record per currency."""

    id = models.CharField(max_length=40, primary_key=True)
    user = models.ForeignKey("users.User", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    currency = models.CharField(max_length=3)
    bets = models.BigIntegerField()
    pending = models.BigIntegerField()
    settled = models.BigIntegerField()
    won = models.BigIntegerField()
    lost = models.BigIntegerField()
    staked_minor = models.BigIntegerField()
    open_stake_minor = models.BigIntegerField()
    open_liability_minor = models.BigIntegerField()
    net_profit_minor = models.BigIntegerField()
    last_bet_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "user_bet_stats"
        verbose_name_plural = "user bet stats"
        default_permissions = ()

    def __str__(self) -> str:
        return f"user {self.user_id} {self.currency}"


class DashboardSummary(models.Model):
    """`dashboard_summary`: handle, house profit and open exposure per period and currency.

    It also carries the dashboard's permission (`ops.view_dashboard`)."""

    id = models.CharField(max_length=20, primary_key=True)
    period = models.CharField(max_length=8)
    position = models.IntegerField()
    starts_at = models.DateTimeField()
    currency = models.CharField(max_length=3)
    bets_placed = models.BigIntegerField()
    handle_minor = models.BigIntegerField()
    bets_settled = models.BigIntegerField()
    house_profit_minor = models.BigIntegerField()
    open_bets = models.BigIntegerField()
    open_exposure_minor = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "dashboard_summary"
        verbose_name = "operations dashboard"
        verbose_name_plural = "operations dashboard"
        default_permissions = ()
        permissions = [("view_dashboard", "Can view the operations dashboard")]

    def __str__(self) -> str:
        return f"{self.period} {self.currency}"


class DailyBook(models.Model):
    """`ops_daily_book`: handle and house profit per UTC day (last 30 days) and currency."""

    id = models.CharField(max_length=20, primary_key=True)
    day = models.DateField()
    currency = models.CharField(max_length=3)
    bets_placed = models.BigIntegerField()
    handle_minor = models.BigIntegerField()
    house_profit_minor = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "ops_daily_book"
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.day} {self.currency}"


class SignupsDaily(models.Model):
    """`ops_signups_daily`: accounts created per UTC day, the last 30 days, zeros included."""

    day = models.DateField(primary_key=True)
    signups = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "ops_signups_daily"
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.day}: {self.signups}"


class UsersByStatus(models.Model):
    """`ops_users_by_status`: accounts per status; soft-deleted accounts count as `deleted`."""

    status = models.CharField(max_length=24, primary_key=True)
    users = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "ops_users_by_status"
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.status}: {self.users}"


class BetsByStatus(models.Model):
    """`ops_bets_by_status`: bets per status."""

    status = models.CharField(max_length=10, primary_key=True)
    bets = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "ops_bets_by_status"
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.status}: {self.bets}"


class SettlementLag(models.Model):
    """`ops_settlement_lag`: seconds from the last event's finish to settlement (bets settled
    in the last 24 h) or to now (bets whose events are over but still pending)."""

    bet_id = models.BigIntegerField(primary_key=True)
    is_pending = models.BooleanField()
    finished_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True)
    lag_seconds = models.FloatField()

    class Meta:
        managed = False
        db_table = "ops_settlement_lag"
        default_permissions = ()

    def __str__(self) -> str:
        return f"bet {self.bet_id}: {self.lag_seconds:.0f}s"


class FeedHealth(models.Model):
    """`ops_feed_health`: each sportsbook's latest quote received."""

    key = models.CharField(max_length=40)
    title = models.CharField(max_length=80)
    freshness_seconds = models.IntegerField()
    is_active = models.BooleanField()
    last_quote_at = models.DateTimeField(null=True)
    quotes = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "ops_feed_health"
        default_permissions = ()

    def __str__(self) -> str:
        return self.key


class OutboxBacklog(models.Model):
    """`ops_outbox_backlog`: undelivered outbox events per type."""

    event_type = models.CharField(max_length=80, primary_key=True)
    pending = models.BigIntegerField()
    oldest_created_at = models.DateTimeField()
    failing = models.BigIntegerField()
    max_attempts = models.IntegerField()

    class Meta:
        managed = False
        db_table = "ops_outbox_backlog"
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.event_type}: {self.pending}"
