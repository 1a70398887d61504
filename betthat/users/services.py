"""Writes on users: verification, suspension, soft delete. Each is one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from betthat.users.models import User


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


@transaction.atomic
def user_verify(*, user: User, level: int = User.VerificationLevel.IDENTITY) -> User:
    """Staff verification (KYC): raises the level and activates a pending account."""
    user.verification_level = max(user.verification_level, level)
    if user.status == User.Status.PENDING_VERIFICATION:
        user.status = User.Status.ACTIVE
    user.save(update_fields=["verification_level", "status", "updated_at"])
    return user


@transaction.atomic
def user_suspend(*, user: User) -> User:
    """Suspended users cannot log in, their sessions end and the API answers 403."""
    user.status = User.Status.SUSPENDED
    user.is_active = False
    user.save(update_fields=["status", "is_active", "updated_at"])
    return user


@transaction.atomic
def user_reactivate(*, user: User) -> User:
    user.status = User.Status.ACTIVE
    user.is_active = True
    user.save(update_fields=["status", "is_active", "updated_at"])
    return user


@transaction.atomic
def user_soft_delete(*, user: User) -> User:
    user.deleted_at = timezone.now()
    user.is_active = False
    user.save(update_fields=["deleted_at", "is_active", "updated_at"])
    Token.objects.filter(user=user).delete()
    return user


@transaction.atomic
def user_restore(*, user: User) -> User:
    user.deleted_at = None
    user.is_active = user.status != User.Status.SUSPENDED
    user.save(update_fields=["deleted_at", "is_active", "updated_at"])
    return user


def user_token_get_or_create(*, user: User) -> str:
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


SETTINGS_FIELDS = ("name", "phone", "timezone", "risk_tolerance", "auto_kelly_sizing", "max_kelly_fraction")
PREFERENCE_KEYS = ("sports", "notifications", "ui", "pricing")


@transaction.atomic
def user_update_settings(*, user: User, fields: dict, preferences: dict | None = None) -> User:
    """Profile, sizing and preference changes (never limits or status: those have their own rules)."""
    changed = ["updated_at"]
    for name, value in fields.items():
        if name not in SETTINGS_FIELDS:
            raise ValueError(f"{name} is not a user setting")
        setattr(user, name, value)
        changed.append(name)
    if preferences is not None:
        merged = dict(user.preferences or {})
        for key, value in preferences.items():
            if key not in PREFERENCE_KEYS:
                raise ValueError(f"{key} is not a preference")
            merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
        user.preferences = merged
        changed.append("preferences")
    user.full_clean(exclude=["password", "external_id"], validate_unique=False)
    user.save(update_fields=changed)
    return user


# --- used by betting ---
if TYPE_CHECKING:  # annotations only (this block stays contiguous for the merge)
    from datetime import datetime

    from djmoney.money import Money

# Betting's responsible-gambling rules (cooling-off, never shortening an exclusion) live in
# betting/services/limits.py; these are the only writes it makes on users.

BETTING_LIMIT_FIELDS = ("max_bet_size", "daily_bet_limit", "monthly_bet_limit")


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
