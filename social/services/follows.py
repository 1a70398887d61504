"""Follows: only public profiles can be followed, never oneself, once per pair."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction

from betthat.core.errors import ApplicationError, NotFound
from social.handles import handle_normalise
from social.models import Follow, Profile

if TYPE_CHECKING:
    from betthat.users.models import User


def _public_profile(handle: str) -> Profile:
    profile = Profile.objects.filter(handle__iexact=handle_normalise(handle)).select_related("user").first()
    if profile is None or not profile.is_visible_to_others:
        raise NotFound("No public profile with this handle.", details={"handle": handle_normalise(handle)})
    return profile


def follow_create(*, follower: User, handle: str) -> tuple[Follow, bool]:
    """Follow the public profile `handle`; (the follow, whether it is new). Following again
    is not an error and changes nothing."""
    profile = _public_profile(handle)
    if profile.user_id == follower.pk:
        raise ApplicationError("You cannot follow yourself.", code="cannot_follow_self")
    existing = Follow.objects.filter(follower_id=follower.pk, followee_id=profile.user_id).first()
    if existing is not None:
        return existing, False
    if Follow.objects.filter(follower_id=follower.pk).count() >= settings.SOCIAL_MAX_FOLLOWING:
        raise ApplicationError(
            f"You can follow at most {settings.SOCIAL_MAX_FOLLOWING:,} bettors.",
            code="too_many_follows",
            status=409,
        )
    try:
        with transaction.atomic():
            return Follow.objects.create(follower_id=follower.pk, followee_id=profile.user_id), True
    except IntegrityError:  # a concurrent request followed first
        return Follow.objects.get(follower_id=follower.pk, followee_id=profile.user_id), False


def follow_delete(*, follower: User, handle: str) -> None:
    """Stop following `handle` (also when that profile has since gone private)."""
    profile = Profile.objects.filter(handle__iexact=handle_normalise(handle)).first()
    deleted = 0
    if profile is not None:
        deleted, _ = Follow.objects.filter(follower_id=follower.pk, followee_id=profile.user_id).delete()
    if not deleted:
        raise NotFound(
            "You do not follow this handle.",
            code="not_following",
            details={"handle": handle_normalise(handle)},
        )
