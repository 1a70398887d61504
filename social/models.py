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
from django.db.models.functions import Lower, Now
from django.utils import timezone

from betthat.users.models import User
from social.handles import handle_skeleton_sql

SUSPENDED = User.Status.SUSPENDED.value
HANDLE_PATTERN = r"^[a-z0-9_]{3,30}$"
MAX_DELAY_SEC = 24 * 60 * 60
DISPLAY_NAME_MAX = 50


def listed_q(*, profile: str = "", user: str = "user__") -> Q:
    """The one rule for who appears on a public surface, as a filter: the profile is public
    and not hidden by staff, and its user is neither soft-deleted nor suspended (nor made
    inactive). `profile` and `user` are the lookup paths from the queried model to the
    Profile and to the User ("" and "user__" from Profile; "user__social_profile__" and
    "user__" from PublicBet, LeaderboardRank or any model with a `user`). Every selector
    a non-owner reaches applies it, so a suspension or a soft delete takes the bettor off
    every page, endpoint and board at the next read, and a restore brings them back."""
    return (
        Q(**{f"{profile}is_public": True, f"{profile}hidden_at__isnull": True})
        & Q(**{f"{user}deleted_at__isnull": True, f"{user}is_active": True})
        & ~Q(**{f"{user}status": SUSPENDED})
    )


def user_is_listed(user) -> bool:
    """`listed_q`'s user half for a loaded user."""
    return user.deleted_at is None and user.is_active and user.status != SUSPENDED


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
            # Look-alike checks (social.handles): one skeleton, one handle.
            models.Index(handle_skeleton_sql(), name="profile_handle_skeleton_idx"),
            # people search (`selectors.profile_search`): trigram matches on handle and name
            GinIndex(fields=["handle"], opclasses=["gin_trgm_ops"], name="profile_handle_trgm_idx"),
            GinIndex(fields=["display_name"], opclasses=["gin_trgm_ops"], name="profile_name_trgm_idx"),
        ]
        # Hiding, restoring and resetting a bio are staff actions with their own permission
        # (checked in social.services.moderation, so every way in honours it).
        permissions = [("moderate_profile", "Can hide and restore profiles and reset bios")]

    def __str__(self) -> str:
        return f"@{self.handle}"

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None

    @property
    def is_visible_to_others(self) -> bool:
        """`listed_q` for one profile (loads the user unless select_related)."""
        return self.is_public and self.hidden_at is None and user_is_listed(self.user)


class HandleRelease(models.Model):
    """A handle an account stopped using (renamed away from, or deleted with the account):
    for SOCIAL_HANDLE_COOLING_DAYS nobody else may take it or a look-alike of it, so a
    newcomer cannot pick up the old name's followers' trust (links, mentions, screenshots).
    The account that gave it up may take it back. A soft-deleted account keeps its profile,
    so its handle stays taken until the profile row itself goes."""

    handle = models.CharField(max_length=30)
    # Null when the account was deleted: then nobody may take the handle until it cools.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.CharField(max_length=10, choices=[("renamed", "Renamed"), ("deleted", "Deleted")])
    released_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-released_at"]
        indexes = [models.Index(fields=["released_at"], name="handlerelease_released_idx")]

    def __str__(self) -> str:
        return f"@{self.handle} released {self.released_at:%Y-%m-%d}"


class PublicBet(models.Model):
    """A bet published on a public profile. Written by the `bet.placed` handler; the
    result columns are a copy written by the `bet.settled` handler, so the leaderboards
    aggregate one social table."""

    bet = models.OneToOneField("betting.Bet", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="public_bets")
    visible_from = models.DateTimeField()
    stake_mode = models.CharField(max_length=8, choices=StakeVisibility.choices)
    placed_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, db_default=Now(), editable=False)
    # Set once followers' open feeds have been sent the bet (at or after visible_from).
    released_at = models.DateTimeField(null=True, blank=True)
    # The result, copied when the bet settles (or is cancelled).
    status = models.CharField(max_length=10, default="pending", db_default="pending")
    result = models.CharField(max_length=10, blank=True, default="", db_default="")
    stake_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="USD", db_default="USD")
    net_profit_minor = models.BigIntegerField(null=True, blank=True)
    # Profit per unit staked from the price and the result only (win: price - 1, loss: -1,
    # push and void: 0; betting.selectors.bet_result_per_unit), never net profit / stake:
    # a payout floored to the cent makes that ratio's last digits depend on the stake.
    # `result` is likewise the stake-free result. Every public number is made from these.
    profit_units = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    clv_percent = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    sport_key = models.CharField(max_length=60, blank=True, default="", db_default="")
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
