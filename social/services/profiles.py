"""Profiles: created for every user, edited by their owner."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from betthat.core import redis as bt_redis
from betthat.core.errors import ApplicationError, Conflict
from social.handles import MAX_LENGTH, handle_base_from, handle_skeleton, handle_skeleton_sql, handle_validate
from social.models import DISPLAY_NAME_MAX, MAX_DELAY_SEC, Follow, HandleRelease, Profile, StakeVisibility
from social.push import push_on_commit

if TYPE_CHECKING:
    from betthat.users.models import User

BIO_MAX = 280
_UNSET = object()


class HandleUnavailable(Conflict):
    pass


def _handle_conflict(code: str, message: str) -> HandleUnavailable:
    return HandleUnavailable(message, code=code, details={"handle": [message]})


def _lock_skeleton(skeleton: str) -> None:
    """Serialise claims of one skeleton until the transaction ends: the database cannot
    hold a uniqueness rule for look-alikes (handles that predate it may share one)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"social.handle:{skeleton}"])


def _cooling_since(now: datetime) -> datetime:
    return now - timedelta(days=settings.SOCIAL_HANDLE_COOLING_DAYS)


def handle_claim_check(*, handle: str, user_id: int, now: datetime | None = None) -> None:
    """Refuse `handle` (valid, normalised) for `user_id` if it is in use by another
    profile (handle_taken), looks like one in use (handle_confusable), or another account
    gave it or a look-alike up within SOCIAL_HANDLE_COOLING_DAYS (handle_cooling). Call
    inside the transaction that saves the handle: it locks the handle's skeleton."""
    now = now or timezone.now()
    skeleton = handle_skeleton(handle)
    _lock_skeleton(skeleton)
    same = set(
        Profile.objects.annotate(skeleton=handle_skeleton_sql())
        .filter(skeleton=skeleton)
        .exclude(user_id=user_id)
        .values_list("handle", flat=True)
    )
    if handle in same:
        raise _handle_not_available()
    if same:
        raise _handle_conflict("handle_confusable", "This handle looks like one already in use.")
    released = (
        HandleRelease.objects.annotate(skeleton=handle_skeleton_sql())
        .filter(skeleton=skeleton, released_at__gt=_cooling_since(now))
        .exclude(user_id=user_id)
        .order_by("-released_at")
        .first()
    )
    if released is not None:
        free_from = released.released_at + timedelta(days=settings.SOCIAL_HANDLE_COOLING_DAYS)
        raise _handle_conflict(
            "handle_cooling",
            f"This handle (or one like it) was in use until recently; it is held until {free_from:%Y-%m-%d}.",
        )


def _free_handle(base: str, *, now: datetime) -> str:
    """`base`, or `base` with the smallest number from 2 that makes it unlike any handle in
    use or cooling (the numbers only lengthen the skeleton: base is trimmed of underscores
    and leaves room for five digits)."""
    prefix = handle_skeleton(base)
    taken = set(
        Profile.objects.annotate(skeleton=handle_skeleton_sql())
        .filter(skeleton__startswith=prefix)
        .values_list("skeleton", flat=True)
    ) | set(
        HandleRelease.objects.annotate(skeleton=handle_skeleton_sql())
        .filter(skeleton__startswith=prefix, released_at__gt=_cooling_since(now))
        .values_list("skeleton", flat=True)
    )
    if handle_skeleton(base) not in taken:
        return base
    for number in range(2, 100_000):
        suffix = str(number)
        candidate = f"{base[: MAX_LENGTH - len(suffix)]}{suffix}"
        if handle_skeleton(candidate) not in taken:
            return candidate
    raise RuntimeError("no free handle")  # pragma: no cover - 100,000 namesakes


def profile_create_for_user(*, user: User) -> Profile:
    """The user's profile, created on first call with a handle derived from the name
    (then the email), made unique (and unlike any handle in use or cooling) by a number.
    Private, stake hidden, default delay."""
    existing = Profile.objects.filter(user_id=user.pk).first()
    if existing is not None:
        return existing
    base = handle_base_from(user.name, user.email)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                now = timezone.now()
                handle = _free_handle(base, now=now)
                handle_claim_check(handle=handle, user_id=user.pk, now=now)
                return Profile.objects.create(
                    user_id=user.pk, handle=handle, live_delay_sec=settings.SOCIAL_DEFAULT_DELAY_SEC
                )
        except (IntegrityError, HandleUnavailable):
            existing = Profile.objects.filter(user_id=user.pk).first()
            if existing is not None:
                return existing  # created concurrently
    raise Conflict("Could not choose a handle; try again.", code="handle_taken")


def _handle_not_available() -> Conflict:
    # One answer whoever holds the handle (a public profile, a private one, a hidden one):
    # the answer says only that this user cannot have it now.
    return Conflict(
        "This handle is not available.",
        code="handle_taken",
        details={"handle": ["This handle is not available."]},
    )


def _count_handle_question(user_id: int) -> None:
    """Asking for a new handle tells the asker whether someone holds it, private profiles
    included; each user may ask SOCIAL_HANDLE_CHANGES_PER_HOUR times an hour (a fixed
    window in Redis), so the handle space cannot be walked to find private bettors."""
    limit = int(settings.SOCIAL_HANDLE_CHANGES_PER_HOUR)
    key = bt_redis.key("social", "handle_questions", str(user_id))
    client = bt_redis.client()
    pipe = client.pipeline()
    pipe.set(key, 0, ex=3600, nx=True)  # the window starts with the first question
    pipe.incr(key)
    pipe.ttl(key)
    _, count, ttl = pipe.execute()
    if int(count) > limit:
        wait = max(1, int(ttl))
        raise ApplicationError(
            f"You can try at most {limit} new handles an hour. Try again in {wait // 60 + 1} minutes.",
            code="rate_limited",
            status=429,
            details={"retry_after": wait},
        )


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
                _count_handle_question(user.pk)
                handle_claim_check(handle=new_handle, user_id=user.pk, now=now)
                # The old handle cools before anyone else may take it (or a look-alike).
                HandleRelease.objects.create(
                    handle=profile.handle, user_id=user.pk, reason="renamed", released_at=now
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
                raise _handle_not_available() from error
        if went_private:
            push_removal(profile)
    return profile


def push_removal(profile: Profile) -> None:
    """Tell the followers' open feeds to drop this bettor's items (after commit)."""
    followers = Follow.objects.filter(followee_id=profile.user_id).values_list("follower_id", flat=True)
    push_on_commit((follower, {"type": "feed.remove", "handle": profile.handle}) for follower in followers)
