"""Writes on users: verification, suspension, soft delete. Each is one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from djmoney.money import Money

from betthat.core.audit import audit_append
from betthat.core.errors import ApplicationError, NotFound
from betthat.core.money import from_minor, to_minor
from betthat.users import preferences as preference_schema
from betthat.users import timezones, token_cache
from betthat.users.models import ApiToken, User

STAFF_AUDIT_STREAM = "staff"


@transaction.atomic
def user_verify_email(*, user: User) -> User:
    """Email confirmed: the account becomes active (unless staff suspended it)."""
    fields = ["verification_level", "updated_at"]
    user.verification_level = max(user.verification_level, User.VerificationLevel.EMAIL)
    if user.status == User.Status.PENDING_VERIFICATION:
        user.status = User.Status.ACTIVE
        fields.append("status")
    user.save(update_fields=fields)
    return user


def _audit_staff_action(
    action: str, *, user: User, actor: User | None, reason: str = "", source: str = "", **extra: object
) -> None:
    """A staff action on a user reaches the audit store (written inside the action's transaction:
    an action whose commit then fails still leaves its line, never the other way round). An
    action without a staff actor is audited when it names its `source` (a webhook, the user)."""
    if actor is None and not source:
        return
    record = {
        "action": action,
        "at": timezone.now().isoformat(),
        "actor_id": actor.pk if actor else None,
        "actor_email": actor.email if actor else source,
        "user_id": user.pk,
        "user_email": user.email,
        "reason": reason,
        **extra,
    }
    audit_append(STAFF_AUDIT_STREAM, record)


@transaction.atomic
def user_verify(
    *,
    user: User,
    level: int = User.VerificationLevel.IDENTITY,
    actor: User | None = None,
    reason: str = "",
) -> User:
    """Staff verification (KYC): raises the level and activates a pending account."""
    before = user.verification_level
    user.verification_level = max(user.verification_level, level)
    if user.status == User.Status.PENDING_VERIFICATION:
        user.status = User.Status.ACTIVE
    user.save(update_fields=["verification_level", "status", "updated_at"])
    _audit_staff_action(
        "user_verify",
        user=user,
        actor=actor,
        reason=reason,
        level_from=before,
        level_to=user.verification_level,
    )
    return user


@transaction.atomic
def user_suspend(*, user: User, actor: User | None = None, reason: str = "") -> User:
    """Suspended users cannot log in, their sessions end and the API answers 403."""
    user.status = User.Status.SUSPENDED
    user.is_active = False
    user.save(update_fields=["status", "is_active", "updated_at"])
    _audit_staff_action("user_suspend", user=user, actor=actor, reason=reason)
    return user


@transaction.atomic
def user_reactivate(*, user: User, actor: User | None = None, reason: str = "") -> User:
    user.status = User.Status.ACTIVE
    user.is_active = True
    user.save(update_fields=["status", "is_active", "updated_at"])
    _audit_staff_action("user_reactivate", user=user, actor=actor, reason=reason)
    return user


@transaction.atomic
def user_soft_delete(*, user: User, actor: User | None = None, reason: str = "") -> User:
    user.deleted_at = timezone.now()
    user.is_active = False
    user.save(update_fields=["deleted_at", "is_active", "updated_at"])
    _tokens_delete(ApiToken.objects.filter(user=user))
    _audit_staff_action("user_soft_delete", user=user, actor=actor, reason=reason)
    return user


@transaction.atomic
def user_restore(*, user: User, actor: User | None = None, reason: str = "") -> User:
    user.deleted_at = None
    user.is_active = user.status != User.Status.SUSPENDED
    user.save(update_fields=["deleted_at", "is_active", "updated_at"])
    _audit_staff_action("user_restore", user=user, actor=actor, reason=reason)
    return user


@transaction.atomic
def user_freeze(*, user: User, actor: User | None = None, reason: str, source: str = "") -> User:
    """Freeze the user's money: from the commit on, the ledger refuses any debit of their cash
    (bets, withdrawals, fees) except payment reversals and staff adjustments (a trigger in
    wallet migration 0007). Needs a reason; audited. Freezing a frozen account keeps the
    first freeze's time and changes nothing (idempotent)."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError("A reason is required.", code="reason_required")
    fresh = User.all_objects.select_for_update().get(pk=user.pk)
    if fresh.frozen_at is None:
        fresh.frozen_at = timezone.now()
        fresh.frozen_reason = reason[:500]
        fresh.save(update_fields=["frozen_at", "frozen_reason", "updated_at"])
        _audit_staff_action("user_freeze", user=fresh, actor=actor, reason=reason, source=source)
    user.frozen_at, user.frozen_reason = fresh.frozen_at, fresh.frozen_reason
    return user


@transaction.atomic
def user_unfreeze(*, user: User, actor: User | None = None, reason: str, source: str = "") -> User:
    """Lift a freeze (needs a reason; audited; idempotent)."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError("A reason is required.", code="reason_required")
    fresh = User.all_objects.select_for_update().get(pk=user.pk)
    if fresh.frozen_at is not None:
        fresh.frozen_at = None
        fresh.frozen_reason = ""
        fresh.save(update_fields=["frozen_at", "frozen_reason", "updated_at"])
        _audit_staff_action("user_unfreeze", user=fresh, actor=actor, reason=reason, source=source)
    user.frozen_at, user.frozen_reason = fresh.frozen_at, fresh.frozen_reason
    return user


@transaction.atomic
def user_closure_request(*, user: User) -> User:
    """Record that the bettor asked to close their account (their payout is under way)."""
    fresh = User.all_objects.select_for_update().get(pk=user.pk)
    if fresh.closure_requested_at is None:
        fresh.closure_requested_at = timezone.now()
        fresh.save(update_fields=["closure_requested_at", "updated_at"])
        _audit_staff_action("user_closure_request", user=fresh, actor=None, source="the bettor")
    user.closure_requested_at = fresh.closure_requested_at
    return user


@transaction.atomic
def user_close(*, user: User, source: str = "the bettor") -> User:
    """Close the account for good: deactivated (no sign-in; open sessions end on their next
    request), soft-deleted (gone from every surface that lists users), its API tokens revoked.
    The caller (betting.services.closure) has checked that no bet is open and no money is
    left. Idempotent; audited."""
    fresh = User.all_objects.select_for_update().get(pk=user.pk)
    if fresh.closed_at is None:
        now = timezone.now()
        fresh.closed_at = now
        fresh.closure_requested_at = fresh.closure_requested_at or now
        fresh.deleted_at = fresh.deleted_at or now
        fresh.is_active = False
        fresh.save(
            update_fields=["closed_at", "closure_requested_at", "deleted_at", "is_active", "updated_at"]
        )
        _tokens_delete(ApiToken.objects.filter(user=fresh))
        _audit_staff_action("user_close", user=fresh, actor=None, source=source)
    for name in ("closed_at", "closure_requested_at", "deleted_at", "is_active"):
        setattr(user, name, getattr(fresh, name))
    return user


# The betting limits on the user row: staff lower them here, betting writes them through
# `user_betting_limits_set` (its cooling-off rules in betting/services/limits.py).
BETTING_LIMIT_FIELDS = ("max_bet_size", "daily_bet_limit", "monthly_bet_limit")
STAFF_LIMIT_FIELDS = BETTING_LIMIT_FIELDS


@transaction.atomic
def user_limits_lower(
    *, user: User, actor: User, limits: dict[str, int], reason: str
) -> dict[str, dict[str, int]]:
    """Staff lower a bettor's limits (minor units), at once, with a reason, audited.

    Only cuts: a raise waits out the cooling-off, and only the bettor can ask for one (the
    responsible-gambling page). Returns, per changed field, its old and new amount.
    """
    if not reason.strip():
        raise ApplicationError("A reason is required.", code="reason_required")
    fresh = User.objects.select_for_update().get(pk=user.pk)
    changes: dict[str, dict[str, int]] = {}
    lowered: dict[str, Money] = {}
    for field, amount_minor in limits.items():
        if field not in STAFF_LIMIT_FIELDS:
            raise ApplicationError(f"{field} is not a betting limit.", code="validation_error")
        if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
            raise ApplicationError(
                "A limit is a positive amount.", code="invalid_amount", details={"field": field}
            )
        current = getattr(fresh, field)
        currency = str(current.currency)
        current_minor = to_minor(current.amount, currency)
        if amount_minor > current_minor:
            raise ApplicationError(
                "Staff can only lower a limit; a raise is the bettor's, after the cooling-off.",
                code="limit_raise_refused",
                details={"field": field, "current_minor": current_minor},
            )
        if amount_minor < current_minor:
            lowered[field] = Money(from_minor(amount_minor, currency), currency)
            changes[field] = {"from_minor": current_minor, "to_minor": amount_minor}
    if changes:
        saved = user_betting_limits_set(user_id=user.pk, limits=lowered)
        for field in changes:
            setattr(user, field, getattr(saved, field))
        _audit_staff_action("user_limits_lower", user=user, actor=actor, reason=reason, changes=changes)
    return changes


def user_token_create(
    *, user: User, name: str = "", source: ApiToken.Source = ApiToken.Source.SESSION
) -> str:
    """A new API token for `user`; returns its key (only a hash of it is stored). `source` is
    the proof it was made with: CREDENTIALS only where the caller has just checked the password
    (and the two-factor code); otherwise SESSION, a token that may not take sensitive steps
    (betthat/users/reauth.py)."""
    key = ApiToken.generate_key()
    ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash(key),
        prefix=key[: ApiToken.PREFIX_LENGTH],
        name=name[:100],
        expires_at=timezone.now() + settings.API_TOKEN_LIFETIME,
        source=source,
    )
    return key


def user_token_get_or_create(*, user: User) -> str:
    """A token for scripts that hold the account's credentials (benchmarks, chaos runs, tests):
    keys are not stored, so a new one, made as if by the token endpoint."""
    return user_token_create(user=user, source=ApiToken.Source.CREDENTIALS)


def _tokens_delete(tokens: QuerySet[ApiToken]) -> int:
    """Delete tokens and refuse them from the Redis token cache at once (on commit)."""
    hashes = list(tokens.values_list("key_hash", flat=True))
    deleted, _ = tokens.delete()
    token_cache.revoke(hashes)
    return deleted


def user_token_revoke(*, user: User, token_id: int) -> None:
    if not _tokens_delete(ApiToken.objects.filter(user=user, pk=token_id)):
        raise NotFound("No such token.")


def user_tokens_revoke_all(*, user: User) -> int:
    return _tokens_delete(ApiToken.objects.filter(user=user))


SETTINGS_FIELDS = ("name", "phone", "timezone", "risk_tolerance", "auto_kelly_sizing", "max_kelly_fraction")


def user_timezone_detected(*, user: User, name: str) -> str:
    """Store the zone the user's browser reports, only while the user has none (blank): a
    zone the user chose is never replaced. Returns the zone now stored. An unknown name is a
    400 `validation_error` and changes nothing."""
    if not timezones.is_valid_zone(name):
        raise ApplicationError(
            "Not a time zone name (an IANA name such as America/New_York).",
            code="validation_error",
            details={"timezone": ["Unknown time zone."]},
        )
    User.objects.filter(pk=user.pk, timezone="").update(timezone=name, updated_at=timezone.now())
    stored = User.objects.filter(pk=user.pk).values_list("timezone", flat=True).get()
    user.timezone = stored
    return stored


@transaction.atomic
def user_update_settings(*, user: User, fields: dict, preferences: dict | None = None) -> User:
    """Profile, sizing and preference changes (never limits or status: those have their own rules).

    `preferences` is a partial update, checked against the schema in betthat/users/preferences.py
    (a wrong type raises rest_framework's ValidationError: a 400, and nothing is saved)."""
    changed = ["updated_at"]
    for name, value in fields.items():
        if name not in SETTINGS_FIELDS:
            raise ValueError(f"{name} is not a user setting")
        setattr(user, name, value)
        changed.append(name)
    if preferences is not None:
        update = preference_schema.validate_update(preferences)
        user.preferences = preference_schema.merge(user.preferences, update)
        changed.append("preferences")
    user.full_clean(exclude=["password", "external_id"], validate_unique=False)
    user.save(update_fields=changed)
    return user


# --- used by betting ---
if TYPE_CHECKING:  # annotations only
    from datetime import datetime

# Betting's responsible-gambling rules (cooling-off, never shortening an exclusion) live in
# betting/services/limits.py; these are the only writes it makes on users.


@transaction.atomic
def user_betting_limits_set(*, user_id: int, limits: dict[str, Money]) -> User:
    """Write betting limits (`{"daily_bet_limit": Money(...), ...}`) on the locked user row;
    returns the row as saved. The caller decides whether a change is allowed."""
    fresh = User.objects.select_for_update().get(pk=user_id)
    for field, value in limits.items():
        if field not in BETTING_LIMIT_FIELDS:
            raise ValueError(f"{field} is not a betting limit")
        setattr(fresh, field, value)
    if limits:
        fresh.save(update_fields=[*limits, "updated_at"])
    return fresh


@transaction.atomic
def user_self_exclusion_extend(*, user_id: int, until: datetime) -> User:
    """Exclude the user from betting until `until`, never shortening a longer exclusion."""
    fresh = User.objects.select_for_update().get(pk=user_id)
    if fresh.self_excluded_until is None or fresh.self_excluded_until < until:
        fresh.self_excluded_until = until
        fresh.save(update_fields=["self_excluded_until", "updated_at"])
    return fresh
