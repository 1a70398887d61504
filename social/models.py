"""Public profiles, delayed public bets, follows, leaderboards and the hash-chained record.

The database keeps the rules a bug elsewhere must not break: one profile per user, handles
unique whatever their case and shaped like `[a-z0-9_]{3,30}`, a delay between 0 and 24 hours,
one public bet per bet, no self-follow, one record line per bet and a gapless sequence per
bettor (and the record is append-only: a trigger in migration 0002 refuses UPDATE and DELETE).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

HANDLE_PATTERN = r"^[a-z0-9_]{3,30}$"
MAX_DELAY_SEC = 24 * 60 * 60
DISPLAY_NAME_MAX = 50


class StakeVisibility(models.TextChoices):
    """Ordered from the most to the least private (see `social.visibility.stricter`)."""

    HIDDEN = "hidden", "Hidden"
    ROUNDED = "rounded", "Rounded"
    EXACT = "exact", "Exact"


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="social_profile"
    )
    handle = models.CharField(max_length=30)
    is_public = models.BooleanField(default=False)
    # When the profile last became public: a bet placed before it is never published, even
    # if the outbox delivers its `bet.placed` after the switch.
    public_since = models.DateTimeField(null=True, blank=True)
    stake_visibility = models.CharField(
        max_length=8, choices=StakeVisibility.choices, default=StakeVisibility.HIDDEN
    )
    live_delay_sec = models.PositiveIntegerField(default=300)
    # The public name shown beside the handle and found by people search (not the account's
    # private `User.name`, which stays private).
    display_name = models.CharField(max_length=DISPLAY_NAME_MAX, blank=True, default="")
    bio = models.CharField(max_length=280, blank=True, default="")
    idp_user_id = models.CharField(max_length=255, blank=True, default="")
    # Staff moderation: a hidden profile is private to everyone but its owner, whatever
    # `is_public` says, until staff restore it.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=250, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["handle"]
        constraints = [
            models.UniqueConstraint(Lower("handle"), name="profile_handle_ci_uniq"),
            models.CheckConstraint(condition=Q(handle__regex=HANDLE_PATTERN), name="profile_handle_shape"),
            models.CheckConstraint(
                condition=Q(live_delay_sec__gte=0, live_delay_sec__lte=MAX_DELAY_SEC),
                name="profile_delay_range",
            ),
            models.CheckConstraint(
                condition=Q(stake_visibility__in=StakeVisibility.values),
                name="profile_stake_visibility_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["user"], name="profile_public_user_idx", condition=Q(is_public=True, hidden_at=None)
            ),
            # people search (`selectors.profile_search`): trigram matches on handle and name
            GinIndex(fields=["handle"], opclasses=["gin_trgm_ops"], name="profile_handle_trgm_idx"),
            GinIndex(fields=["display_name"], opclasses=["gin_trgm_ops"], name="profile_name_trgm_idx"),
        ]

    def __str__(self) -> str:
        return f"@{self.handle}"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_visible_to_others(self) -> bool:
        return self.is_public and self.hidden_at is None


class PublicBet(models.Model):
    """A bet published on a public profile. Written by the `bet.placed` handler; the
    result columns are a copy written by the `bet.settled` handler, so the leaderboards
    aggregate one social table."""

    bet = models.OneToOneField("betting.Bet", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="public_bets")
    visible_from = models.DateTimeField()
    stake_mode = models.CharField(max_length=8, choices=StakeVisibility.choices)
    placed_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Set once followers' open feeds have been sent the bet (at or after visible_from).
    released_at = models.DateTimeField(null=True, blank=True)
    # The result, copied when the bet settles (or is cancelled).
    status = models.CharField(max_length=10, default="pending")
    result = models.CharField(max_length=10, blank=True, default="")
    stake_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    net_profit_minor = models.BigIntegerField(null=True, blank=True)
    clv_percent = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    sport_key = models.CharField(max_length=60, blank=True, default="")
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-visible_from", "-id"]
        indexes = [
            models.Index(fields=["visible_from", "id"], name="publicbet_visible_from_idx"),
            models.Index(fields=["user", "-visible_from", "-id"], name="publicbet_user_visible_idx"),
            models.Index(
                fields=["visible_from"], name="publicbet_unreleased_idx", condition=Q(released_at=None)
            ),
            models.Index(fields=["settled_at"], name="publicbet_settled_idx", condition=Q(status="settled")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(visible_from__gte=F("placed_at")), name="publicbet_not_before_placed"
            ),
            models.CheckConstraint(
                condition=Q(stake_mode__in=StakeVisibility.values), name="publicbet_stake_mode_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Public bet {self.bet_id} from {self.visible_from:%Y-%m-%d %H:%M:%S}"


class Follow(models.Model):
    follower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following")
    followee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_pair_uniq"),
            models.CheckConstraint(condition=~Q(follower=F("followee")), name="follow_not_self"),
        ]
        indexes = [models.Index(fields=["followee", "follower"], name="follow_followee_idx")]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followee_id}"


class LeaderboardWindow(models.TextChoices):
    DAYS_7 = "7d", "7 days"
    DAYS_30 = "30d", "30 days"


class LeaderboardMetric(models.TextChoices):
    ROI = "roi", "ROI"
    WIN_PCT = "win_pct", "Win rate"
    CLV = "clv", "Average CLV"


class LeaderboardRank(models.Model):
    window = models.CharField(max_length=4, choices=LeaderboardWindow.choices)
    metric = models.CharField(max_length=8, choices=LeaderboardMetric.choices)
    rank = models.PositiveIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    value = models.DecimalField(max_digits=14, decimal_places=6)
    n_bets = models.PositiveIntegerField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["window", "metric", "rank", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["window", "metric", "user"], name="leaderboard_one_row_per_user"),
        ]
        indexes = [models.Index(fields=["window", "metric", "rank"], name="leaderboard_board_idx")]

    def __str__(self) -> str:
        return f"{self.window} {self.metric} #{self.rank}: {self.user_id} = {self.value}"


class LeaderboardRun(models.Model):
    """One recompute of every board: when, how long, how many ranked rows (for staff)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    rows = models.JSONField(default=dict, help_text='Ranked rows per board, e.g. {"7d/roi": 12}.')
    min_bets = models.PositiveIntegerField()

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Leaderboards at {self.started_at:%Y-%m-%d %H:%M:%S}"


class RecordEntry(models.Model):
    """One line of a bettor's verifiable record: `hash = sha256(line)`, where the line joins
    the previous line's hash and the bet's public facts (see `social.record`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sequence = models.PositiveIntegerField()
    bet = models.OneToOneField("betting.Bet", on_delete=models.CASCADE, related_name="+")
    market = models.CharField(max_length=500)
    price = models.CharField(max_length=24)
    stake_mode = models.CharField(max_length=8, choices=StakeVisibility.choices)
    placed_at = models.CharField(max_length=40, help_text="ISO 8601, UTC, microseconds.")
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    visible_from = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["user_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["user", "sequence"], name="record_sequence_uniq"),
        ]

    def __str__(self) -> str:
        return f"Record {self.user_id}#{self.sequence} {self.hash[:12]}"
