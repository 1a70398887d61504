"""Handles: 3 to 30 of [a-z0-9_], unique whatever the case, reserved words refused, no
look-alike of a handle in use, and no handle another account gave up within the cooling
period.

A handle typed as "Alice_Sharp" is stored as "alice_sharp" (handles are shown and matched
in lower case, after NFKC, so full-width letters are plain ones), so "ALICE_SHARP" and
"alice_sharp" are the same handle.

Look-alikes: two handles with the same *skeleton* are one handle to a reader. The skeleton
folds what a reader cannot tell apart: 0 -> o, 1 and i -> l, rn -> m, vv -> w, runs of
underscores -> one, none at either end, and Cyrillic and Greek letters drawn like Latin
ones to those (a, e, o, p, c, x, y, ...). Stored handles are ASCII, so the database
computes the same skeleton with `handle_skeleton_sql` (`translate`, `replace`,
`regexp_replace`, `btrim`), and `handle_skeleton` is the Python twin for what a user types.
"""

from __future__ import annotations

import re
import unicodedata

from django.db.models import CharField, F, Func, Value

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
    return unicodedata.normalize("NFKC", raw or "").strip().lstrip("@").casefold()


# Letters of other scripts drawn like Latin ones (the common cases of Unicode's
# confusables list), then ASCII look-alikes. Applied in this order, then MULTI.
_SCRIPT_LOOKALIKES = str.maketrans(
    {
        "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c", "\u0445": "x", "\u0443": "y", "\u043a": "k",
        "\u043c": "m", "\u0442": "t", "\u043d": "h", "\u0432": "b", "\u0456": "i", "\u0458": "j", "\u0455": "s", "\u0501": "d",
        "\u0261": "g", "\u03b1": "a", "\u03bf": "o", "\u03c1": "p", "\u03bd": "v", "\u03b9": "i", "\u03ba": "k", "\u03c4": "t",
        "\u03c5": "u", "\u03c7": "x", "\u03b5": "e",
    }
)  # fmt: skip
ASCII_FROM, ASCII_TO = "01i", "oll"
_ASCII_LOOKALIKES = str.maketrans(ASCII_FROM, ASCII_TO)
MULTI = (("rn", "m"), ("vv", "w"))


def handle_skeleton(handle: str) -> str:
    """What `handle` looks like: handles with one skeleton are refused as the same handle."""
    text = handle_normalise(handle).translate(_SCRIPT_LOOKALIKES).translate(_ASCII_LOOKALIKES)
    for many, one in MULTI:
        text = text.replace(many, one)
    return re.sub(r"_+", "_", text).strip("_")


def handle_skeleton_sql(field: str = "handle") -> Func:
    """`handle_skeleton` of a stored (ASCII, lower-case) handle, computed by PostgreSQL."""
    text: Func = Func(F(field), Value(ASCII_FROM), Value(ASCII_TO), function="translate")
    for many, one in MULTI:
        text = Func(text, Value(many), Value(one), function="replace")
    text = Func(text, Value("_+"), Value("_"), Value("g"), function="regexp_replace")
    return Func(text, Value("_"), function="btrim", output_field=CharField())


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
