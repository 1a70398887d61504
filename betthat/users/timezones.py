"""The user's time zone: one IANA name on `User.timezone`, validated against the zone database.

Blank means "not chosen yet": pages show UTC, and the browser reports its own zone
(`Intl.DateTimeFormat().resolvedOptions().timeZone`, static/js/app.js) once, which
`user_timezone_detected` stores only while the field is still blank. The user changes it on
the settings page or with `PATCH /api/v1/me/ {"timezone": ...}`; setting it blank goes back
to the browser's zone.

A visitor who is not signed in (or a user whose zone is still blank) gets the browser's zone
from the `bt_tz` cookie, which the same script writes (`static/js/app.js`); a cookie that is
not a zone name is ignored (UTC). Under /api/ nothing is activated: the API speaks UTC.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

UTC_NAME = "UTC"
COOKIE_NAME = "bt_tz"


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every name the zone database knows (Region/City names, UTC and the legacy aliases)."""
    return frozenset(available_timezones())


def is_valid_zone(name: Any) -> bool:
    return isinstance(name, str) and name in zone_names()


def zone_choices() -> list[tuple[str, str]]:
    """The names offered in the settings page: Region/City and UTC, sorted."""
    return sorted((name, name.replace("_", " ")) for name in zone_names() if "/" in name or name == UTC_NAME)


def zone_for(user: Any) -> ZoneInfo:
    """The zone to show `user` times in: theirs, or UTC while it is blank or unknown."""
    name = getattr(user, "timezone", "") or UTC_NAME
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(UTC_NAME)


def zone_name_for_request(request: Any) -> str:
    """The zone name a page for `request` shows times in: the signed-in user's chosen zone,
    else the browser's zone from the `bt_tz` cookie when it is a real zone name, else UTC."""
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        chosen = getattr(user, "timezone", "")
        if is_valid_zone(chosen):
            return chosen
    cookies = getattr(request, "COOKIES", None) or {}
    cookie = cookies.get(COOKIE_NAME, "")
    return cookie if is_valid_zone(cookie) else UTC_NAME
