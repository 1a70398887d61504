"""Reads on users."""

from __future__ import annotations

from django.db.models import QuerySet

from betthat.users.models import ApiToken, User
from betthat.users.preferences import Preferences, read


def user_preferences(*, user: User) -> Preferences:
    """The user's preferences, typed, every key present (defaults where unset or unreadable).

    Other apps read preferences here: `odds_format`, `favourite_sports`, `notify_settlements`,
    `notify_deposits`, `devig_method`, `reference`, ..."""
    return read(user.preferences)


def user_tokens(*, user: User) -> QuerySet[ApiToken]:
    """The user's API tokens, newest first (expired ones included until they are revoked)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
