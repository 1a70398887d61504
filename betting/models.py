"""Bets, their legs, same-game quotes and responsible-gambling limit changes.

Amounts are integer minor units beside a currency (the ledger's unit); `Money` is offered
by properties for templates and serializers. Prices are decimal odds.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone
from djmoney.money import Money

from betthat.core.models import AuditedModel
from betthat.core.serializers import minor_to_decimal


class Bet(AuditedModel):
    class Status(models.TextChoices):
        # PLACING: the stake is held and the venue is being asked (outside any transaction);
        # the bet becomes PENDING when the venue fills it, REJECTED (stake back) when not.
        PLACING = "placing", "Placing"
        PENDING = "pending", "Pending"
        REJECTED = "rejected", "Rejected by the sportsbook"
        SETTLED = "settled", "Settled"
        CANCELLED = "cancelled", "Cancelled"
        VOID = "void", "Void"

    class Result(models.TextChoices):
        WIN = "win", "Win"
        LOSS = "loss", "Loss"
        PUSH = "push", "Push"
        VOID = "void", "Void"
        HALF_WIN = "half_win", "Half win"
        HALF_LOSS = "half_loss", "Half loss"

    class Kind(models.TextChoices):
        STRAIGHT = "straight", "Straight"
        PARLAY = "parlay", "Parlay"
        SAME_GAME = "same_game", "Same-game parlay"

    # No single-column indexes on user and event: bet_user_placed_idx and bet_event_status_idx
    # lead with them, and every index is written again by each placement and settlement
    # (status is indexed, so a bet's updates are never HOT; docs/performance.md).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bets", db_index=False
    )
    # The event of a straight bet or a same-game parlay; null for a parlay across events.
    event = models.ForeignKey(
        "edges.Event", on_delete=models.PROTECT, null=True, blank=True, related_name="bets", db_index=False
    )
    edge_id = models.CharField(
        max_length=40, blank=True, default="", db_default="", help_text="The edge it was placed from."
    )
    kind = models.CharField(
        max_length=10, choices=Kind.choices, default=Kind.STRAIGHT, db_default=Kind.STRAIGHT
    )
    market_type = models.CharField(max_length=20, help_text="moneyline, spread, total, prop or parlay.")
    sport_key = models.CharField(max_length=60, blank=True, default="", db_default="")
    currency = models.CharField(max_length=3, default="USD", db_default="USD")
    stake_minor = models.BigIntegerField()
    odds_decimal = models.DecimalField(max_digits=18, decimal_places=6)
    odds_american = models.BigIntegerField()  # +100,000,000,000 at 1,000,000,001.0: no overflow
    potential_return_minor = models.BigIntegerField()
    actual_return_minor = models.BigIntegerField(null=True, blank=True)
    net_profit_minor = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_default=Status.PENDING
    )
    result = models.CharField(max_length=10, choices=Result.choices, blank=True, default="", db_default="")
    sportsbook = models.ForeignKey(
        "edges.Sportsbook",
        to_field="key",
        db_column="sportsbook_id",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # bet_sportsbook_idx: a plain index, without the LIKE one nothing used
    )
    external_id = models.CharField(
        max_length=80, blank=True, default="", db_default="", help_text="The venue's ticket."
    )
    placed_at = models.DateTimeField(default=timezone.now, db_default=Now())
    settled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    settlement_note = models.CharField(max_length=300, blank=True, default="", db_default="")
    # Closing line value: filled when the event starts (or said to be unknown).
    closing_odds_decimal = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    closing_fair_probability = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    clv_percent = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    ev_vs_close = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    clv_captured_at = models.DateTimeField(null=True, blank=True)
    clv_note = models.CharField(max_length=200, blank=True, default="", db_default="")
    # Risk metadata at placement.
    kelly_fraction = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    recommended_stake_minor = models.BigIntegerField(null=True, blank=True)
    fair_odds_decimal = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    # The edge it was placed from, as it stood at placement (kind, prices, fair price, EV,
    # Kelly, legs; edges.selectors.edge_snapshot). The Edge row expires with its event and is
    # deleted a week later (edges.services.cleanup_expired_edges); the bet keeps this copy.
    # Null when not placed from an edge. Nullable also because the reserve function inserts
    # with jsonb_populate_record, which writes NULL for a column the caller does not send.
    edge_snapshot = models.JSONField(null=True, blank=True, default=None)
    limits_in_force = models.JSONField(
        default=dict, db_default=models.Value({}, output_field=models.JSONField()), blank=True
    )
    idempotency_key = models.CharField(max_length=100, blank=True, default="", db_default="")
    # Set when automatic settlement failed on this bet: the batch settles the others and
    # skips it until staff settle or void it by hand (or clear these to retry).
    settlement_failed_at = models.DateTimeField(null=True, blank=True)
    settlement_error = models.CharField(max_length=300, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-placed_at", "-id"]
        permissions = [
            ("settle_bet", "Can settle a bet by hand"),
            ("void_bet", "Can void a bet by hand"),
            ("rebuild_exposure", "Can rebuild the exposure aggregates"),
        ]
        indexes = [
            models.Index(fields=["user", "-placed_at"], name="bet_user_placed_idx"),
            models.Index(fields=["user", "status", "-placed_at"], name="bet_user_status_idx"),
            models.Index(fields=["id"], name="bet_pending_idx", condition=Q(status="pending")),
            models.Index(fields=["event", "status"], name="bet_event_status_idx"),
            models.Index(fields=["sportsbook"], name="bet_sportsbook_idx"),
            # The recovery sweep's bets left `placing`: a few rows at any time (a placement's
            # bet leaves it when the fill commits), found without reading the table.
            models.Index(fields=["placed_at"], name="bet_placing_idx", condition=Q(status="placing")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                name="bet_user_idempotency_uniq",
                condition=~Q(idempotency_key=""),
            ),
            models.CheckConstraint(condition=Q(stake_minor__gt=0), name="bet_stake_positive"),
            models.CheckConstraint(condition=Q(odds_decimal__gt=1), name="bet_odds_gt_1"),
        ]

    def __str__(self) -> str:
        return f"Bet {self.pk} {self.get_kind_display()} {self.status}"

    def _money(self, minor: int | None) -> Money | None:
        return None if minor is None else Money(minor_to_decimal(minor), self.currency)

    @property
    def stake(self) -> Money:
        return Money(minor_to_decimal(self.stake_minor), self.currency)

    @property
    def potential_return(self) -> Money:
        return Money(minor_to_decimal(self.potential_return_minor), self.currency)

    @property
    def actual_return(self) -> Money | None:
        return self._money(self.actual_return_minor)

    @property
    def net_profit(self) -> Money | None:
        return self._money(self.net_profit_minor)

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def has_closing_line(self) -> bool:
        return self.clv_percent is not None

    @property
    def is_in_cancel_grace(self) -> bool:
        """Still within the grace period in which the bettor may cancel it."""
        grace = timedelta(seconds=settings.BETTING_CANCEL_GRACE_SECONDS)
        return self.status == self.Status.PENDING and timezone.now() - self.placed_at <= grace


class BetLeg(models.Model):
    class LegType(models.TextChoices):
        STRAIGHT = "straight", "Straight"
        PARLAY = "parlay", "Parlay leg"
        SAME_GAME = "same_game", "Same-game leg"
        PROP = "prop", "Player prop"

    # bet and event: no indexes of their own, betleg_one_per_market (bet, market) and
    # betleg_event_outcome_idx (event, outcome) lead with them.
    bet = models.ForeignKey(Bet, on_delete=models.CASCADE, related_name="legs", db_index=False)
    position = models.PositiveSmallIntegerField(default=0, db_default=0)
    event = models.ForeignKey("edges.Event", on_delete=models.PROTECT, related_name="+", db_index=False)
    market = models.ForeignKey("edges.Market", on_delete=models.PROTECT, related_name="+")
    outcome = models.ForeignKey("edges.Outcome", on_delete=models.PROTECT, related_name="+")
    price_decimal = models.DecimalField(max_digits=12, decimal_places=6)
    quote_version = models.BigIntegerField(default=0, db_default=0)
    point = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    leg_type = models.CharField(
        max_length=10, choices=LegType.choices, default=LegType.STRAIGHT, db_default=LegType.STRAIGHT
    )
    # {"market_key", "outcome_name", "player", "alternate_line", "has_draw"}
    attributes = models.JSONField(
        default=dict, db_default=models.Value({}, output_field=models.JSONField()), blank=True
    )
    result = models.CharField(
        max_length=10, choices=Bet.Result.choices, blank=True, default="", db_default=""
    )
    graded_at = models.DateTimeField(null=True, blank=True)
    closing_price_decimal = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    closing_fair_probability = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        ordering = ["bet_id", "position"]
        indexes = [
            models.Index(fields=["bet"], name="betleg_ungraded_idx", condition=Q(result="")),
            models.Index(fields=["event"], name="betleg_event_ungraded_idx", condition=Q(result="")),
            models.Index(fields=["event", "outcome"], name="betleg_event_outcome_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["bet", "market"], name="betleg_one_per_market"),
        ]

    def __str__(self) -> str:
        return f"Leg {self.position} of bet {self.bet_id}: {self.attributes.get('outcome_name', '')}"


class SameGameQuote(models.Model):
    """A venue's price for a same-game combination (the feed quotes these; we never derive
    one from the legs, because the legs of one game are correlated)."""

    sportsbook = models.ForeignKey(
        "edges.Sportsbook",
        to_field="key",
        db_column="sportsbook_id",
        on_delete=models.CASCADE,
        related_name="+",
    )
    event = models.ForeignKey("edges.Event", on_delete=models.CASCADE, related_name="same_game_quotes")
    # The outcome ids, sorted and joined by commas: one combination, whatever the order.
    selection_key = models.CharField(max_length=200)
    price_decimal = models.DecimalField(max_digits=12, decimal_places=6)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sportsbook", "event", "selection_key"], name="sgp_quote_uniq"),
            models.CheckConstraint(condition=Q(price_decimal__gt=1), name="sgp_quote_price_gt_1"),
        ]

    def __str__(self) -> str:
        return f"SGP {self.selection_key} @ {self.sportsbook_id}: {self.price_decimal}"

    @staticmethod
    def key_for(outcome_ids) -> str:
        return ",".join(str(i) for i in sorted(int(i) for i in outcome_ids))


class LimitChange(models.Model):
    """A requested raise of a betting limit: it takes effect after the cooling-off period.
    Lowering a limit applies at once and needs no row here."""

    class Field(models.TextChoices):
        MAX_BET = "max_bet_size", "Max bet"
        DAILY = "daily_bet_limit", "Daily limit"
        MONTHLY = "monthly_bet_limit", "Monthly limit"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="limit_changes")
    field = models.CharField(max_length=20, choices=Field.choices)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    requested_at = models.DateTimeField(default=timezone.now)
    effective_at = models.DateTimeField()
    applied_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["user", "effective_at"], name="limitchange_due_idx")]
        constraints = [models.CheckConstraint(condition=Q(amount_minor__gt=0), name="limitchange_positive")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.field} -> {self.amount_minor} at {self.effective_at:%Y-%m-%d %H:%M}"

    @property
    def is_pending(self) -> bool:
        return self.applied_at is None and self.cancelled_at is None


class ManualSettlement(models.Model):
    """A staff settlement by hand that pays winnings needing a second approver: above
    WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR on their own, or past the requester's or the
    account's rolling total of grants without one (wallet/services/staff_grants.py). The bet
    stays pending until a different staff member with `betting.settle_bet` approves (the
    settlement is booked) or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a second approval"
        APPROVED = "approved", "Approved and booked"
        REJECTED = "rejected", "Rejected"

    bet = models.ForeignKey(Bet, on_delete=models.PROTECT, related_name="manual_settlements")
    result = models.CharField(max_length=12)
    reason = models.TextField()
    # The winnings (payout less stake) the requested result pays, in the bet's currency.
    winnings_minor = models.BigIntegerField()
    approval_reason = models.CharField(max_length=20)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bet"], condition=Q(status="pending"), name="manual_settlement_one_pending_per_bet"
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="manual_settlement_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"Manual settlement #{self.pk} of bet {self.bet_id}: {self.result} ({self.status})"
