"""Reads on users."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db.models import QuerySet
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

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


def user_anonymous_label(*, user_id: int) -> str:
    """A stable name for a user without a public profile, e.g. "Bettor 4F2A9C": six hex
    digits of an HMAC of the id under the site's secret key, so it says nothing about the
    email, the name or the id (two users may share a label; frames carry the id as well)."""
    digest = salted_hmac("betthat.users.anonymous_label", str(int(user_id)), algorithm="sha256").hexdigest()
    return f"Bettor {digest[:6].upper()}"


def user_public_names(*, user_ids: Iterable[int]) -> dict[int, str]:
    """What other people see as each user's name in shared spaces (chat messages, presence,
    typing): "@handle" where the user has a profile anyone may see, else their anonymous
    label. Never the email or anything taken from it, never the account's name. One query
    for all of `user_ids` (social's reader, `settings.USERS_PUBLIC_HANDLES`)."""
    ids = sorted({int(i) for i in user_ids})
    if not ids:
        return {}
    reader = import_string(settings.USERS_PUBLIC_HANDLES) if settings.USERS_PUBLIC_HANDLES else None
    handles: dict[int, str] = reader(user_ids=ids) if reader is not None else {}
    return {uid: f"@{handles[uid]}" if uid in handles else user_anonymous_label(user_id=uid) for uid in ids}


def user_public_name(*, user_id: int) -> str:
    return user_public_names(user_ids=[user_id])[int(user_id)]
