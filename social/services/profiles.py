"""Profiles: created for every user, edited by their owner."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from betthat.core.errors import ApplicationError, Conflict
from social.handles import MAX_LENGTH, handle_base_from, handle_validate
from social.models import DISPLAY_NAME_MAX, MAX_DELAY_SEC, Follow, Profile, StakeVisibility
from social.push import push_on_commit

if TYPE_CHECKING:
    from betthat.users.models import User

BIO_MAX = 280
_UNSET = object()


def _free_handle(base: str) -> str:
    taken = set(Profile.objects.filter(handle__startswith=base).values_list("handle", flat=True))
    if base not in taken:
        return base
    for number in range(2, 100_000):
        suffix = str(number)
        candidate = f"{base[: MAX_LENGTH - len(suffix)]}{suffix}"
        if candidate not in taken:
            return candidate
    raise RuntimeError("no free handle")  # pragma: no cover - 100,000 namesakes


def profile_create_for_user(*, user: User) -> Profile:
    """The user's profile, created on first call with a handle derived from the name
    (then the email), made unique by a number. Private, stake hidden, default delay."""
    existing = Profile.objects.filter(user_id=user.pk).first()
    if existing is not None:
        return existing
    base = handle_base_from(user.name, user.email)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Profile.objects.create(
                    user_id=user.pk,
                    handle=_free_handle(base),
                    live_delay_sec=settings.SOCIAL_DEFAULT_DELAY_SEC,
                )
        except IntegrityError:
            existing = Profile.objects.filter(user_id=user.pk).first()
            if existing is not None:
                return existing  # created concurrently
    raise Conflict("Could not choose a handle; try again.", code="handle_taken")


def _clean_bio(bio: str) -> str:
    text = "\n".join(line.rstrip() for line in str(bio).replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    text = "".join(ch for ch in text if ch == "\n" or ch.isprintable()).strip()
    if len(text) > BIO_MAX:
        raise ApplicationError(
            f"A bio has at most {BIO_MAX} characters.",
            code="validation_error",
            details={"bio": [f"At most {BIO_MAX} characters ({len(text)} given)."]},
        )
    return text


def _clean_display_name(name: str) -> str:
    """One line of printable text, inner whitespace collapsed, at most DISPLAY_NAME_MAX."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in str(name)).split())
    if len(text) > DISPLAY_NAME_MAX:
        raise ApplicationError(
            f"A display name has at most {DISPLAY_NAME_MAX} characters.",
            code="validation_error",
            details={"display_name": [f"At most {DISPLAY_NAME_MAX} characters ({len(text)} given)."]},
        )
    return text


def _clean_delay(value: object) -> int:
    try:
        seconds = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        seconds = -1
    if isinstance(value, bool) or not 0 <= seconds <= MAX_DELAY_SEC or str(seconds) != str(value).strip():
        raise ApplicationError(
            "The live delay is a whole number of seconds from 0 to 86,400 (24 hours).",
            code="validation_error",
            details={"live_delay_sec": ["Between 0 and 86400 seconds."]},
        )
    return seconds


def profile_update(
    *,
    user: User,
    handle: str | None = None,
    is_public: bool | None = None,
    stake_visibility: str | None = None,
    live_delay_sec: int | None = None,
    bio: str | None = None,
    display_name: str | None = None,
    now: datetime | None = None,
) -> Profile:
    """Change the owner's profile; only the fields given. Making it private hides its
    public bets everywhere at once (and removes them from open feeds); making it public
    again publishes only bets placed from then on. Refusals change nothing."""
    now = now or timezone.now()
    profile_create_for_user(user=user)
    with transaction.atomic():
        profile = Profile.objects.select_for_update().get(user_id=user.pk)
        changed: list[str] = []
        if handle is not None:
            new_handle = handle_validate(handle)
            if new_handle != profile.handle:
                if Profile.objects.filter(handle__iexact=new_handle).exclude(pk=profile.pk).exists():
                    raise Conflict(
                        "This handle is taken.",
                        code="handle_taken",
                        details={"handle": ["This handle is taken."]},
                    )
                profile.handle = new_handle
                changed.append("handle")
        if stake_visibility is not None:
            if stake_visibility not in StakeVisibility.values:
                raise ApplicationError(
                    "Stake visibility is hidden, rounded or exact.",
                    code="validation_error",
                    details={"stake_visibility": [f"One of {', '.join(StakeVisibility.values)}."]},
                )
            profile.stake_visibility = stake_visibility
            changed.append("stake_visibility")
        if live_delay_sec is not None:
            profile.live_delay_sec = _clean_delay(live_delay_sec)
            changed.append("live_delay_sec")
        if bio is not None:
            profile.bio = _clean_bio(bio)
            changed.append("bio")
        if display_name is not None:
            profile.display_name = _clean_display_name(display_name)
            changed.append("display_name")
        went_private = False
        if is_public is not None and bool(is_public) != profile.is_public:
            profile.is_public = bool(is_public)
            profile.public_since = now if profile.is_public else None
            went_private = not profile.is_public
            changed += ["is_public", "public_since"]
        if changed:
            try:
                with transaction.atomic():
                    profile.save(update_fields=[*changed, "updated_at"])
            except IntegrityError as error:  # a concurrent rename took the handle
                raise Conflict(
                    "This handle is taken.",
                    code="handle_taken",
                    details={"handle": ["This handle is taken."]},
                ) from error
        if went_private:
            push_removal(profile)
    return profile


def push_removal(profile: Profile) -> None:
    """Tell the followers' open feeds to drop this bettor's items (after commit)."""
    followers = Follow.objects.filter(followee_id=profile.user_id).values_list("follower_id", flat=True)
    push_on_commit((follower, {"type": "feed.remove", "handle": profile.handle}) for follower in followers)
