"""Handles: 3 to 30 of [a-z0-9_], unique whatever the case, reserved words refused.

A handle typed as "Alice_Sharp" is stored as "alice_sharp" (handles are shown and matched
in lower case), so "ALICE_SHARP" and "alice_sharp" are the same handle.
"""

from __future__ import annotations

import re
import unicodedata

from betthat.core.errors import ApplicationError

HANDLE_RE = re.compile(r"^[a-z0-9_]{3,30}$")
MIN_LENGTH, MAX_LENGTH = 3, 30

# Words that would impersonate the platform or collide with a path or a role.
RESERVED = frozenset(
    {
        "about", "account", "accounts", "admin", "administrator", "api", "betthat", "bet_that",
        "bets", "chat", "edges", "feed", "follow", "followers", "following", "help", "home",
        "leaderboard", "leaderboards", "login", "logout", "me", "mod", "moderator", "null",
        "official", "owner", "profile", "profiles", "root", "security", "settings", "signup",
        "staff", "static", "support", "system", "undefined", "wallet", "www",
    }
)  # fmt: skip


def handle_normalise(raw: str) -> str:
    return (raw or "").strip().lstrip("@").lower()


def handle_problem(handle: str) -> str | None:
    """Why `handle` (normalised) cannot be used, or None."""
    if not MIN_LENGTH <= len(handle) <= MAX_LENGTH:
        return f"A handle has {MIN_LENGTH} to {MAX_LENGTH} characters."
    if not HANDLE_RE.fullmatch(handle):
        return "A handle uses only lowercase letters, digits and underscores."
    if handle in RESERVED:
        return "This handle is reserved."
    return None


def handle_validate(raw: str) -> str:
    handle = handle_normalise(raw)
    problem = handle_problem(handle)
    if problem:
        raise ApplicationError(problem, code="invalid_handle", details={"handle": [problem]})
    return handle


def handle_base_from(name: str, email: str) -> str:
    """A handle-shaped stem from the user's name (or the email's local part): accents
    dropped, other characters to underscores, trimmed to leave room for a suffix."""
    for source in (name, email.split("@")[0] if email else ""):
        ascii_text = unicodedata.normalize("NFKD", source or "").encode("ascii", "ignore").decode()
        stem = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[: MAX_LENGTH - 5].strip("_")
        if len(stem) >= MIN_LENGTH and stem not in RESERVED:
            return stem
    return "bettor"
