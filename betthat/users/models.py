"""The custom User: login by email, risk limits and preferences, soft delete."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone as django_timezone
from djmoney.models.fields import MoneyField

from betthat.core.models import AuditedModel, SoftDeleteModel, SoftDeleteQuerySet


def default_preferences() -> dict:
    """Every preference at its default (the schema is in betthat/users/preferences.py)."""
    from betthat.users.preferences import default_preferences as defaults

    return defaults()


class AllUsersManager(BaseUserManager["User"]):
    """Every user, soft-deleted or not, as a SoftDeleteQuerySet (`.alive()`, `.deleted()`).

    A plain subclass rather than `BaseUserManager.from_queryset(...)`: django-stubs types a
    module-level `from_queryset` result only when its plugin analyses the module in one order,
    so mypy passed or failed depending on the order of a fresh run.
    """

    def get_queryset(self) -> SoftDeleteQuerySet:
        return SoftDeleteQuerySet(self.model, using=self._db)


class UserManager(AllUsersManager):
    """Hides soft-deleted users; `User.all_objects` sees everyone."""

    use_in_migrations = True

    def get_queryset(self) -> SoftDeleteQuerySet:
        return super().get_queryset().alive()

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("status", User.Status.ACTIVE)
        extra.setdefault("verification_level", User.VerificationLevel.FULL)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin, AuditedModel, SoftDeleteModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        PENDING_VERIFICATION = "pending_verification", "Pending verification"

    class VerificationLevel(models.IntegerChoices):
        NONE = 0, "None"
        EMAIL = 1, "Email verified"
        IDENTITY = 2, "Identity verified (KYC)"
        FULL = 3, "Full (KYC and address)"

    class RiskTolerance(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"

    external_id = models.CharField(max_length=64, unique=True, default="", blank=True)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    # An IANA zone name (betthat/users/timezones.py); blank until the browser reports one.
    timezone = models.CharField(max_length=64, default="", blank=True)
    phone = models.CharField(max_length=32, blank=True)
    status = models.CharField(
        max_length=24, choices=Status.choices, default=Status.PENDING_VERIFICATION, db_index=True
    )
    verification_level = models.PositiveSmallIntegerField(
        choices=VerificationLevel.choices, default=VerificationLevel.NONE, db_index=True
    )
    max_bet_size = MoneyField(
        max_digits=14, decimal_places=2, default_currency="USD", default=Decimal("1000.00")
    )
    daily_bet_limit = MoneyField(
        max_digits=14, decimal_places=2, default_currency="USD", default=Decimal("5000.00")
    )
    monthly_bet_limit = MoneyField(
        max_digits=14, decimal_places=2, default_currency="USD", default=Decimal("50000.00")
    )
    risk_tolerance = models.CharField(
        max_length=8, choices=RiskTolerance.choices, default=RiskTolerance.MEDIUM
    )
    auto_kelly_sizing = models.BooleanField(default=True)
    max_kelly_fraction = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.2500"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    preferences = models.JSONField(default=default_preferences, blank=True)
    self_excluded_until = models.DateTimeField(null=True, blank=True)
    # Staff freeze (or a payment dispute): no debit of the user's cash except the reversals
    # the wallet allows (docs/wallet.md "Frozen accounts"); enforced by a ledger trigger.
    frozen_at = models.DateTimeField(null=True, blank=True)
    frozen_reason = models.CharField(max_length=500, blank=True, default="")
    # The bettor asked to close their account (their balance is being paid out) and when it
    # closed (deactivated, gone from public surfaces).
    closure_requested_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=django_timezone.now)

    objects = UserManager()
    all_objects = AllUsersManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["-created_at"]
        base_manager_name = "all_objects"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_kelly_fraction__gte=0) & models.Q(max_kelly_fraction__lte=1),
                name="user_max_kelly_fraction_0_1",
            ),
        ]
        indexes = [models.Index(fields=["status", "verification_level"])]
        # Each staff action on users has its own permission (the admin actions check them).
        permissions = [
            ("verify_user", "Can verify users (KYC)"),
            ("suspend_user", "Can suspend users"),
            ("reactivate_user", "Can reactivate suspended users"),
            ("soft_delete_user", "Can soft-delete users"),
            ("restore_user", "Can restore soft-deleted users"),
            ("change_user_limits", "Can lower a user's betting limits"),
            ("freeze_user", "Can freeze and unfreeze a user's money"),
            ("override_kyc", "Can override a user's KYC status"),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        if not self.external_id:
            self.external_id = f"usr_{uuid.uuid4().hex[:20]}"
        # set_password() leaves the raw password here until the save: a new password, by
        # whatever way (allauth's change and reset pages, the admin, changepassword).
        password_changed = self._password is not None and self.pk is not None
        super().save(*args, **kwargs)
        if password_changed:
            from betthat.users.signals import password_changed as signal

            signal.send(sender=type(self), user=self)

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @property
    def is_self_excluded(self) -> bool:
        return self.self_excluded_until is not None and self.self_excluded_until > django_timezone.now()

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.display_name


class ApiToken(models.Model):
    """An API token: many per user, each named, expiring, revocable. Only a hash of the key is
    stored; the key itself is shown once, when the token is created.

    `source` says what proof made the token, and so what it may do (betthat/users/reauth.py):
    a token from the token endpoint was made with the password (and the two-factor code when
    two-factor is on) and may take sensitive steps such as withdrawing; a token made from a
    signed-in page is no stronger than a session that has not re-authenticated, so it may not."""

    class Source(models.TextChoices):
        CREDENTIALS = "credentials", "Password (and two-factor code) at the token endpoint"
        SESSION = "session", "Created from a signed-in page"

    PREFIX_LENGTH = 8

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=PREFIX_LENGTH)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=django_timezone.now)
    expires_at = models.DateTimeField()
    # Rows from before this field existed get SESSION: their origin is unknown, so they fail closed.
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SESSION)

    class Meta:
        # The name keeps "authtoken_token" so query guards that count the token lookup still find it.
        db_table = "users_authtoken_token"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or 'unnamed'})"

    @staticmethod
    def hash(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def generate_key() -> str:
        return secrets.token_hex(20)

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= django_timezone.now()

    @property
    def may_take_sensitive_steps(self) -> bool:
        """Made with the password (and code): may withdraw and make other sensitive changes."""
        return self.source == self.Source.CREDENTIALS


class EmailNotification(models.Model):
    """One email owed to a user for one event: the row is written in the transaction of the
    event it reports (a settlement, a payment, an edge alert), so it exists exactly when the
    event committed, and `(user, dedupe_key)` is unique, so a retried handler or task never
    owes a second one. A worker claims it (pending -> sending) before it sends."""

    class Kind(models.TextChoices):
        BET_SETTLED = "bet_settled", "Bet settled"
        DEPOSIT = "deposit", "Deposit"
        WITHDRAWAL = "withdrawal", "Withdrawal"
        EDGE_ALERT = "edge_alert", "Edge alert"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    dedupe_key = models.CharField(max_length=120)
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=django_timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="email_notification_once_per_event")
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="email_notification_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} email to user {self.user_id} ({self.status})"


class KYCStatus(models.Model):
    """A bettor's identity check at the `KYC_CHECK` provider: its reference and decision.

    Only what we need is kept: no name, date of birth or document number (the provider holds
    them; we keep its reference). The verification level it granted is on the User."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the provider"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kyc_status")
    provider = models.CharField(max_length=32)
    provider_reference = models.CharField(max_length=128, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # The level the provider (or staff) decided; 0 while pending or when rejected.
    level = models.PositiveSmallIntegerField(default=0)
    # The provider's reason code for a rejection (never identity data).
    reason = models.CharField(max_length=200, blank=True, default="")
    # ISO country of the document: enough to apply geo rules, nothing more.
    country = models.CharField(max_length=2, blank=True, default="")
    submitted_at = models.DateTimeField(default=django_timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "KYC status"
        verbose_name_plural = "KYC statuses"
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"KYC {self.provider_reference} ({self.status})"


class KYCWebhookEvent(models.Model):
    """Every KYC provider event applied, once: `(provider, event_id)` is unique."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=128)
    reference = models.CharField(max_length=128)
    outcome = models.CharField(max_length=64, blank=True, default="")
    received_at = models.DateTimeField(default=django_timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="users_kyc_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id}"
