"""The double-entry ledger: accounts, journal headers, immutable lines; payments and idempotency.

Amounts are integers in minor units (cents); the currency lives on the Account. The database
enforces the rules that matter (see migrations 0002): a deferred trigger rejects any committed
transaction whose entries do not sum to zero per currency, a trigger forbids UPDATE and DELETE
on ledger entries, and a CHECK keeps user balances from going negative.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Account(models.Model):
    class Kind(models.TextChoices):
        CASH = "cash", "Cash"
        HOLDS = "holds", "Holds"
        PSP_CLEARING = "psp_clearing", "Payment provider clearing"
        HOUSE = "house", "House"
        FEES = "fees", "Fees"
        # What users owe us: a refund or chargeback of money they had already spent.
        RECEIVABLE = "receivable", "Receivable (reversals not covered by cash)"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        FROZEN = "frozen", "Frozen"

    USER_KINDS = (Kind.CASH, Kind.HOLDS)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    currency = models.CharField(max_length=3, default="USD")
    balance_minor = models.BigIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        # Staff powers over money, each its own permission (is_staff alone grants none).
        permissions = [
            ("adjust_account", "Can request and approve balance adjustments"),
            ("view_ledger_health", "Can run the ledger health check"),
            ("export_transactions", "Can export all transactions (regulatory reporting)"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "currency"],
                condition=Q(user__isnull=False),
                name="wallet_account_user_kind_currency_unique",
            ),
            models.UniqueConstraint(
                fields=["kind", "currency"],
                condition=Q(user__isnull=True),
                name="wallet_account_system_kind_currency_unique",
            ),
            # A user's money (cash and holds) is never negative; system accounts may be.
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(balance_minor__gte=0),
                name="wallet_account_user_balance_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=True, kind__in=["psp_clearing", "house", "fees", "receivable"])
                | Q(user__isnull=False, kind__in=["cash", "holds"]),
                name="wallet_account_kind_matches_owner",
            ),
        ]

    def __str__(self) -> str:
        owner = self.user.email if self.user_id and self.user else "system"
        return f"{owner} {self.kind} {self.currency}"


class Transaction(models.Model):
    """The journal header: one movement of money, with two or more balanced entries."""

    class Type(models.TextChoices):
        DEPOSIT = "DEPOSIT", "Deposit"
        WITHDRAWAL = "WITHDRAWAL", "Withdrawal"
        BET_PLACED = "BET_PLACED", "Bet placed"
        BET_PAYOUT = "BET_PAYOUT", "Bet payout"
        BET_REFUND = "BET_REFUND", "Bet refund"
        BONUS = "BONUS", "Bonus"
        FEE = "FEE", "Fee"
        ADJUSTMENT = "ADJUSTMENT", "Adjustment"
        # Reversals of a deposit by the payment provider (docs/wallet.md "Refunds and chargebacks").
        REFUND = "REFUND", "Deposit refunded"
        CHARGEBACK = "CHARGEBACK", "Chargeback"
        CHARGEBACK_WON = "CHARGEBACK_WON", "Chargeback won"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wallet_transactions",
        db_index=False,  # wallet_tx_user_id_idx (user, -id) leads with it
    )
    # A plain id, not a foreign key: the wallet must not depend on the betting app.
    bet_id = models.BigIntegerField(null=True, blank=True)
    payment = models.ForeignKey(
        "wallet.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    type = models.CharField(max_length=16, choices=Type.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    currency = models.CharField(max_length=3, default="USD")
    # The headline amount the user sees (positive), in minor units; the entries are the truth.
    amount_minor = models.BigIntegerField(default=0)
    fee_minor = models.BigIntegerField(default=0)
    sportsbook_id = models.CharField(max_length=64, blank=True, default="")
    processing_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    external_reference = models.CharField(max_length=128, blank=True, default="")
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bet_id", "type"],
                condition=Q(bet_id__isnull=False),
                name="wallet_transaction_bet_type_unique",
            ),
            # A bet's hold is closed once: a refund and a payout of one bet cannot both exist.
            models.UniqueConstraint(
                fields=["bet_id"],
                condition=Q(bet_id__isnull=False, type__in=["BET_REFUND", "BET_PAYOUT"]),
                name="wallet_transaction_bet_closed_once",
            ),
            # A provider's refund or dispute is booked once, whatever its events' ids.
            models.UniqueConstraint(
                fields=["payment", "type", "external_reference"],
                condition=Q(type__in=["REFUND", "CHARGEBACK", "CHARGEBACK_WON"]),
                name="wallet_transaction_reversal_once",
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__gte=0), name="wallet_transaction_amount_non_negative"
            ),
            models.CheckConstraint(condition=Q(fee_minor__gte=0), name="wallet_transaction_fee_non_negative"),
        ]
        indexes = [
            models.Index(fields=["user", "-id"], name="wallet_tx_user_id_idx"),
            models.Index(fields=["user", "type", "status"], name="wallet_tx_user_type_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk} {self.status}"


class LedgerEntry(models.Model):
    """One line of a transaction: a signed amount on one account. Never updated or deleted."""

    class EntryType(models.TextChoices):
        HOLD = "HOLD", "Hold"
        RELEASE = "RELEASE", "Release"
        CREDIT = "CREDIT", "Credit"
        DEBIT = "DEBIT", "Debit"
        FEE = "FEE", "Fee"

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    # wallet_entry_account_time_idx (account, created_at) leads with account: no index of its own
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", db_index=False)
    amount_minor = models.BigIntegerField()
    entry_type = models.CharField(max_length=8, choices=EntryType.choices)
    ref_type = models.CharField(max_length=16, blank=True, default="")
    ref_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["account", "created_at"], name="wallet_entry_account_time_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="wallet_entry_amount_non_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_type} {self.amount_minor} on account {self.account_id}"


class IdempotencyKey(models.Model):
    """The first response to a money-moving request, replayed for a retry with the same key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="wallet_idempotency_user_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class Payment(models.Model):
    class Direction(models.TextChoices):
        DEPOSIT = "DEPOSIT", "Deposit"
        WITHDRAWAL = "WITHDRAWAL", "Withdrawal"
        CHARGEBACK = "CHARGEBACK", "Chargeback"
        REFUND = "REFUND", "Refund"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments")
    direction = models.CharField(max_length=12, choices=Direction.choices)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    provider = models.CharField(max_length=24)
    provider_customer_id = models.CharField(max_length=128, blank=True, default="")
    provider_transaction_id = models.CharField(max_length=128, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    checkout_url = models.CharField(max_length=500, blank=True, default="")
    failure_reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="wallet_payment_amount_positive"),
            models.UniqueConstraint(
                fields=["provider", "provider_transaction_id"],
                condition=~Q(provider_transaction_id=""),
                name="wallet_payment_provider_txn_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="wallet_payment_user_idempotency_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "direction", "created_at"], name="wallet_payment_user_dir_idx")
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.amount_minor} {self.currency} via {self.provider} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class WebhookEvent(models.Model):
    """Every provider event we accepted, recorded in the same transaction as its effect."""

    provider = models.CharField(max_length=24)
    event_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=64)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="webhook_events"
    )
    payload = models.JSONField(default=dict)
    outcome = models.CharField(max_length=64, blank=True, default="")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="wallet_webhook_provider_event_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"


class DepositLimit(models.Model):
    """A self-set cap on deposits per rolling period. A lower limit applies at once; a higher
    one (or removing it) waits `COOLING_OFF` in `pending_*` before it takes effect."""

    class Period(models.TextChoices):
        DAY = "day", "24 hours"
        WEEK = "week", "7 days"
        MONTH = "month", "30 days"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deposit_limits"
    )
    period = models.CharField(max_length=8, choices=Period.choices)
    currency = models.CharField(max_length=3, default="USD")
    amount_minor = models.BigIntegerField(null=True, blank=True)  # None: no limit
    pending_amount_minor = models.BigIntegerField(null=True, blank=True)
    pending_is_removal = models.BooleanField(default=False)
    pending_effective_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "period", "currency"], name="wallet_deposit_limit_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__isnull=True) | Q(amount_minor__gte=0),
                name="wallet_deposit_limit_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.period} {self.amount_minor}"


class Adjustment(models.Model):
    """A staff correction of a user's cash against the house, with who asked, why and how
    much. Up to WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR it is booked at once; above, it waits
    for a second, different staff member (`decided_by`) to approve or reject it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a second approval"
        BOOKED = "booked", "Booked"
        REJECTED = "rejected", "Rejected"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallet_adjustments"
    )
    currency = models.CharField(max_length=3, default="USD")
    # Signed: positive credits the user's cash from the house, negative debits it.
    amount_minor = models.BigIntegerField()
    reason = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transaction = models.OneToOneField(
        Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustment"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Why it waits for a second staff member (wallet.services.staff_grants.ApprovalReason):
    # its own size, or the rolling total of the requester or of the account. "" when booked at once.
    approval_reason = models.CharField(max_length=20, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="wallet_adjustment_amount_non_zero"),
            # Nobody adjusts their own account, and the second approver is another person.
            models.CheckConstraint(
                condition=~Q(user=F("requested_by")), name="wallet_adjustment_not_own_account"
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True)
                | (~Q(decided_by=F("requested_by")) & ~Q(decided_by=F("user"))),
                name="wallet_adjustment_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(status="booked", transaction__isnull=False) | ~Q(status="booked"),
                name="wallet_adjustment_booked_has_transaction",
            ),
        ]

    def __str__(self) -> str:
        return f"Adjustment #{self.pk} {self.amount_minor} {self.currency} ({self.status})"


class StaffGrant(models.Model):
    """Money a staff member moved to a user's cash *without* a second approver: an adjustment
    booked at once, or a manual bet settlement's winnings. The rolling per-staff and
    per-account totals of these rows decide when the next one needs a second approver
    (wallet.services.staff_grants). Written in the transaction that moves the money."""

    class Kind(models.TextChoices):
        ADJUSTMENT = "adjustment", "Staff adjustment"
        SETTLEMENT = "settlement", "Manual bet settlement"

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    # The size of the grant (the absolute value of an adjustment, the winnings of a bet).
    amount_minor = models.BigIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    reference = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["staff", "created_at"], name="wallet_grant_staff_at"),
            models.Index(fields=["user", "created_at"], name="wallet_grant_user_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="wallet_staff_grant_positive"),
            models.CheckConstraint(condition=~Q(user=F("staff")), name="wallet_staff_grant_not_own"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_minor} {self.currency} by {self.staff_id} to {self.user_id}"
