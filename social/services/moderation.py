"""Staff actions on profiles. Each needs `social.moderate_profile` (checked here, so the
admin and any other way in hold the same rule) and is audited in the audit store (stream
"social-staff": who, what, which profile, why), as chat's moderation is in "chat"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from betthat.core.audit import audit_append
from betthat.core.errors import ApplicationError, NotFound, PermissionDenied
from social.models import Profile
from social.services.profiles import push_removal

if TYPE_CHECKING:
    from betthat.users.models import User


MODERATE_PERMISSION = "social.moderate_profile"


def _require_moderator(actor: User) -> None:
    """Only active staff holding the permission moderate profiles."""
    if not (
        actor.is_authenticated and actor.is_active and actor.is_staff and actor.has_perm(MODERATE_PERMISSION)
    ):
        raise PermissionDenied("You need the profile moderation permission.")


def _audit(actor: User, action: str, profile: Profile, **details) -> None:
    record = {
        "action": action,
        "actor_id": actor.pk,
        "actor": actor.email,
        "profile_id": profile.pk,
        "user_id": profile.user_id,
        "handle": profile.handle,
        "at": timezone.now(),
        **details,
    }
    transaction.on_commit(lambda: audit_append("social-staff", record))


def _locked(profile_id: int) -> Profile:
    profile = Profile.objects.select_for_update().filter(pk=profile_id).first()
    if profile is None:
        raise NotFound("No such profile.")
    return profile


def profile_hide(*, actor: User, profile_id: int, reason: str) -> Profile:
    """Hide a profile from everyone but its owner (its bets leave every feed and board)."""
    _require_moderator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Give a reason for hiding the profile.", code="validation_error")
    with transaction.atomic():
        profile = _locked(profile_id)
        profile.hidden_at = timezone.now()
        profile.hidden_reason = reason[:250]
        profile.save(update_fields=["hidden_at", "hidden_reason", "updated_at"])
        push_removal(profile)
        _audit(actor, "profile_hide", profile, reason=reason[:250])
    return profile


def profile_restore(*, actor: User, profile_id: int) -> Profile:
    _require_moderator(actor)
    with transaction.atomic():
        profile = _locked(profile_id)
        profile.hidden_at = None
        profile.hidden_reason = ""
        profile.save(update_fields=["hidden_at", "hidden_reason", "updated_at"])
        _audit(actor, "profile_restore", profile)
    return profile


def profile_reset_bio(*, actor: User, profile_id: int, reason: str = "") -> Profile:
    _require_moderator(actor)
    with transaction.atomic():
        profile = _locked(profile_id)
        old = profile.bio
        profile.bio = ""
        profile.save(update_fields=["bio", "updated_at"])
        _audit(actor, "profile_reset_bio", profile, previous_bio=old, reason=(reason or "")[:250])
    return profile
