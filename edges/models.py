"""Market data (books, sports, events, markets, outcomes, quotes, history) and edges.

Odds are stored as decimal odds (`Decimal`, 6 places) with the American price beside them,
derived exactly. A market is one line: `spreads` at home -3.5 and `spreads` at home -4.0
are two markets of the same event, so margin removal always compares like with like and a
middle is a pair of markets of the same family at different points.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from betthat.core.models import TimeStampedModel

FULL_GAME = "full_game"
# Provider ids of the demo feed's own events (`simulate_odds`). The simulator drives only
# these; the real feeds refuse them, so a real event and a simulated one never mix.
SIMULATED_PREFIX = "sim-"


class Sportsbook(models.Model):
    class LatencyTier(models.TextChoices):
        FAST = "fast", "Fast (< 2 s)"
        STANDARD = "standard", "Standard (2-10 s)"
        SLOW = "slow", "Slow (> 10 s)"

    key = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=80)
    region = models.CharField(max_length=8, default="us")
    is_sharp = models.BooleanField(default=False, help_text="Its prices are the reference fair line.")
    latency_tier = models.CharField(max_length=10, choices=LatencyTier.choices, default=LatencyTier.STANDARD)
    freshness_seconds = models.PositiveIntegerField(
        default=90, help_text="A quote older than this is stale, and so is any edge resting on it."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-is_sharp", "title"]

    def __str__(self) -> str:
        return self.title


class Sport(models.Model):
    key = models.SlugField(max_length=60, unique=True)
    group = models.CharField(max_length=60, blank=True)
    title = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Event(TimeStampedModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        LIVE = "live", "Live"
        FINAL = "final", "Final"
        CANCELLED = "cancelled", "Cancelled"

    provider_id = models.CharField(max_length=64, unique=True)
    sport = models.ForeignKey(Sport, on_delete=models.PROTECT, related_name="events")
    home_team = models.CharField(max_length=100)
    away_team = models.CharField(max_length=100)
    commence_time = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    home_score = models.IntegerField(null=True, blank=True)
    away_score = models.IntegerField(null=True, blank=True)
    # {"home": int, "away": int, "players": {name: {stat_key: value or None}}}
    scores = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["commence_time", "id"]
        indexes = [
            models.Index(fields=["status", "commence_time"], name="event_status_time_idx"),
            models.Index(fields=["sport", "status", "commence_time"], name="event_sport_status_idx"),
        ]

    @property
    def is_simulated(self) -> bool:
        return self.provider_id.startswith(SIMULATED_PREFIX)

    def __str__(self) -> str:
        return f"{self.away_team} @ {self.home_team}"

    @property
    def matchup(self) -> str:
        return f"{self.away_team} @ {self.home_team}"

    @property
    def has_started(self) -> bool:
        return self.status != self.Status.SCHEDULED or self.commence_time <= timezone.now()


class Market(models.Model):
    """One line of one market family: (event, key, player, period, point).

    `point` is the line: the home team's handicap for spreads, the total for totals and
    props, null for moneylines.
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="markets")
    key = models.CharField(max_length=60)
    point = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    player = models.CharField(max_length=120, blank=True, default="")
    period = models.CharField(max_length=20, default=FULL_GAME)
    is_suspended = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["event_id", "key", "player", "point"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "key", "player", "period", "point"],
                name="market_identity_uniq",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["event", "key"], name="market_event_key_idx")]

    def __str__(self) -> str:
        parts = [self.key]
        if self.player:
            parts.append(self.player)
        if self.point is not None:
            parts.append(str(self.point))
        return " ".join(parts)

    @property
    def family(self) -> tuple:
        return (self.event_id, self.key, self.player, self.period)


class Outcome(models.Model):
    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="outcomes")
    name = models.CharField(max_length=120)
    point = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["market_id", "id"]
        constraints = [models.UniqueConstraint(fields=["market", "name"], name="outcome_market_name_uniq")]

    def __str__(self) -> str:
        if self.point is None:
            return self.name
        sign = "+" if self.point > 0 and self.market.key == "spreads" else ""
        return f"{self.name} {sign}{self.point}"


class OddsQuote(models.Model):
    """The latest price of one outcome at one book. `version` only moves forward."""

    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="quotes")
    sportsbook = models.ForeignKey(Sportsbook, on_delete=models.CASCADE, related_name="quotes")
    price_decimal = models.DecimalField(max_digits=12, decimal_places=6)
    price_american = models.IntegerField()
    point = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    last_update = models.DateTimeField(help_text="The provider's time of this price.")
    received_at = models.DateTimeField(default=timezone.now)
    version = models.BigIntegerField(help_text="Microseconds of last_update: monotonic per quote.")
    is_suspended = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["outcome", "sportsbook"], name="quote_outcome_book_uniq"),
            models.CheckConstraint(condition=models.Q(price_decimal__gt=1), name="quote_price_gt_1"),
        ]
        # Deliberately no index on the price or time columns: every update then stays a HOT
        # update (no index writes), which is most of the ingest's cost in PostgreSQL.

    def __str__(self) -> str:
        return f"{self.outcome} @ {self.sportsbook_id}: {self.price_decimal}"


class OddsHistory(models.Model):
    """Append-only: every accepted price, for line movement and closing lines."""

    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="history")
    sportsbook = models.ForeignKey(Sportsbook, on_delete=models.CASCADE, related_name="+")
    price_decimal = models.DecimalField(max_digits=12, decimal_places=6)
    point = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    recorded_at = models.DateTimeField()
    version = models.BigIntegerField()

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name_plural = "odds history"
        indexes = [
            models.Index(fields=["outcome", "sportsbook", "recorded_at"], name="history_outcome_book_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome_id}@{self.sportsbook_id} {self.price_decimal} {self.recorded_at:%H:%M:%S}"


class Edge(models.Model):
    """One opportunity. `edge_id` is stable: the same opportunity keeps its id as prices move."""

    class Kind(models.TextChoices):
        ARBITRAGE = "arbitrage", "Arbitrage"
        POSITIVE_EV = "positive_ev", "+EV"
        MIDDLE = "middle", "Middle"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        STALE = "stale", "Stale"
        EXPIRED = "expired", "Expired"

    edge_id = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    sport_key = models.CharField(max_length=60)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="edges")
    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="edges")
    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    sportsbook = models.ForeignKey(
        Sportsbook, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    market_type = models.CharField(max_length=60)
    player = models.CharField(max_length=120, blank=True, default="")
    line = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    side = models.CharField(max_length=160)
    best_odds_american = models.IntegerField()
    best_odds_decimal = models.DecimalField(max_digits=12, decimal_places=6)
    fair_probability = models.FloatField(null=True, blank=True)
    fair_odds_decimal = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    edge_percentage = models.FloatField(help_text="p - 1/d; for arbitrage, 1 - sum(1/best).")
    expected_value_per_dollar = models.FloatField()
    kelly_fraction = models.FloatField(default=0.0)
    devig_method = models.CharField(max_length=16, default="multiplicative")
    reference = models.CharField(max_length=16, default="sharp")
    confidence = models.FloatField(default=0.0)
    books_in_consensus = models.PositiveSmallIntegerField(default=0)
    reference_age_seconds = models.FloatField(null=True, blank=True)
    # Each leg: {"outcome_id", "outcome", "sportsbook", "price_decimal", "price_american", "stake_share"}.
    legs = models.JSONField(default=list, blank=True)
    middle_low = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    middle_high = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    context = models.JSONField(default=dict, blank=True)
    oldest_quote_at = models.DateTimeField()
    stale_after = models.DateTimeField(
        help_text="When the oldest quote it rests on passes its book's threshold."
    )
    version = models.BigIntegerField(default=0)
    discovered_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-expected_value_per_dollar"]
        indexes = [
            models.Index(
                "status", models.F("expected_value_per_dollar").desc(), name="edge_status_ev_desc_idx"
            ),
            models.Index("status", models.F("edge_percentage").desc(), name="edge_status_edge_desc_idx"),
            models.Index("status", models.F("discovered_at").desc(), name="edge_status_found_desc_idx"),
            models.Index(fields=["status", "kind"], name="edge_status_kind_idx"),
            models.Index(fields=["status", "sport_key"], name="edge_status_sport_idx"),
            models.Index(fields=["status", "stale_after"], name="edge_status_stale_after_idx"),
            models.Index(fields=["status", "expires_at"], name="edge_status_expires_idx"),
            models.Index(fields=["market", "status"], name="edge_market_status_idx"),
            models.Index(fields=["event", "status"], name="edge_event_status_idx"),
            models.Index(Lower("player"), name="edge_player_lower_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.side} ({self.edge_id})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class EdgeAlert(models.Model):
    """A bettor's saved board filter: tell me (in the page, and by email if chosen) when a new
    edge matching it appears. An empty field matches anything; `min_ev` is a fraction
    (0.03 = 3 %) like the board's filter; `sportsbook_key` matches an edge any of whose legs
    is at that book (as the board's book filter)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="edge_alerts")
    name = models.CharField(max_length=80, blank=True)
    sport_key = models.CharField(max_length=60, blank=True)
    kind = models.CharField(max_length=12, blank=True, choices=Edge.Kind.choices)
    min_ev = models.FloatField(null=True, blank=True, help_text="fraction: 0.03 = 3 %")
    sportsbook_key = models.CharField(max_length=40, blank=True)
    send_email = models.BooleanField(default=False, help_text="also by email (if notification emails are on)")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["is_active", "sport_key"], name="edge_alert_active_sport_idx")]

    def __str__(self) -> str:
        return self.name or f"Alert #{self.pk}"


class EdgeAlertHit(models.Model):
    """An edge that matched an alert: at most one per (alert, edge), so an edge alerts once.
    `delivery` says how the user was told: on its own (`notified`), in the one summary past
    the hourly limit (`summarised`), or not at all past that (`held`; listed on the alerts
    page)."""

    class Delivery(models.TextChoices):
        NOTIFIED = "notified", "Notified"
        SUMMARISED = "summarised", "In a summary"
        HELD = "held", "Held (hourly limit)"

    alert = models.ForeignKey(EdgeAlert, on_delete=models.CASCADE, related_name="hits")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    edge = models.ForeignKey(Edge, on_delete=models.CASCADE, related_name="+")
    delivery = models.CharField(max_length=10, choices=Delivery.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["alert", "edge"], name="edge_alert_hit_once")]
        indexes = [models.Index(fields=["user", "created_at"], name="edge_alert_hit_user_time_idx")]

    def __str__(self) -> str:
        return f"{self.alert} -> {self.edge_id} ({self.delivery})"


class FeedState(models.Model):
    """Where a polled feed stands, kept in the database so every worker shares it: when it
    may poll next, how it last went, and (on the `quota` row) The Odds API's quota as its
    headers last reported it. Keys: `odds:<sport>`, `scores:<sport>`, `quota`."""

    key = models.CharField(max_length=120, unique=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="last HTTP status")
    last_error = models.TextField(blank=True)
    polls = models.PositiveIntegerField(default=0)
    parts_skipped = models.PositiveIntegerField(default=0, help_text="malformed parts counted and skipped")
    requests_remaining = models.IntegerField(null=True, blank=True)
    requests_used = models.IntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key
