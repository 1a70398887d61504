"""The one schema of a user's preferences: every key typed, validated on every write.

Stored in `User.preferences` (JSON) as:

    {
        "odds_format": "american" | "decimal" | "fractional",
        "favourite_sports": ["basketball_nba", ...],   # sport keys, the board's default filter
        "notify_settlements": bool,                    # a message when a bet settles
        "notify_deposits": bool,                       # a message when a deposit is credited
        "notify_email": bool,                          # the messages above by email too
        "theme": "dark" | "light",
        "pricing": {"devig_method": ..., "reference": "sharp" | "consensus"},
    }

There is no "new top edges" preference: the `notify_edges` flag that once promised it (and did
nothing) was folded into edge alerts (`edges/alerts.py`), which are that message with a filter;
migration `edges/0005_notify_edges_becomes_an_alert` gave each user who had it on a "Top edges"
alert, and the key is refused now with a pointer to `/api/v1/edge-alerts/`.

Writers go through `validate_update` (the API and the settings page do); readers go through
`betthat.users.selectors.user_preferences`, which returns a typed `Preferences` and falls back
to the default for any value that does not fit (rows written before validation existed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

ODDS_FORMATS = [
    ("american", "American (+150)"),
    ("decimal", "Decimal (2.50)"),
    ("fractional", "Fractional (3/2)"),
]
THEMES = [("dark", "Dark"), ("light", "Light")]
DEVIG_METHODS = [
    ("multiplicative", "Multiplicative"),
    ("additive", "Additive"),
    ("power", "Power"),
    ("shin", "Shin"),
    ("worst_case", "Worst case (most conservative)"),
]
REFERENCES = [("sharp", "Sharp books (Pinnacle)"), ("consensus", "Market consensus")]
SPORT_KEY = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
MAX_FAVOURITE_SPORTS = 50
# Preferences that no longer exist, and where what they did lives now.
RETIRED = {
    "notify_edges": "Replaced by edge alerts: save a board filter with POST /api/v1/edge-alerts/ "
    "(the page: /edges/alerts/).",
}


@dataclass(frozen=True)
class Preferences:
    odds_format: str = "american"
    favourite_sports: tuple[str, ...] = ()
    notify_settlements: bool = True
    notify_deposits: bool = True
    notify_email: bool = True
    theme: str = "dark"
    devig_method: str = "multiplicative"
    reference: str = "sharp"

    def as_json(self) -> dict[str, Any]:
        return {
            "odds_format": self.odds_format,
            "favourite_sports": list(self.favourite_sports),
            "notify_settlements": self.notify_settlements,
            "notify_deposits": self.notify_deposits,
            "notify_email": self.notify_email,
            "theme": self.theme,
            "pricing": {"devig_method": self.devig_method, "reference": self.reference},
        }


DEFAULTS = Preferences()


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only (DRF's BooleanField would take "yes", 1, "on")."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictChoiceField(serializers.ChoiceField):
    """A string among the choices (DRF's ChoiceField would take 1 for "1")."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class SportKeyField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=60, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("A sport key is a string such as basketball_nba.")
        value = super().to_internal_value(data)
        if not SPORT_KEY.match(value):
            raise serializers.ValidationError(f"{value!r} is not a sport key (such as basketball_nba).")
        return value


class PricingSerializer(serializers.Serializer):
    devig_method = StrictChoiceField(choices=DEVIG_METHODS, required=False)
    reference = StrictChoiceField(choices=REFERENCES, required=False)

    def to_internal_value(self, data: Any) -> Any:
        unknown = set(data) - set(self.fields) if isinstance(data, dict) else set()
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(sorted(unknown), "Unknown pricing preference."))
        return super().to_internal_value(data)


class PreferencesSerializer(serializers.Serializer):
    """A partial update of preferences: every key optional, every value typed, no other key."""

    odds_format = StrictChoiceField(choices=ODDS_FORMATS, required=False)
    favourite_sports = serializers.ListField(
        child=SportKeyField(), required=False, max_length=MAX_FAVOURITE_SPORTS, allow_empty=True
    )
    notify_settlements = StrictBooleanField(required=False)
    notify_deposits = StrictBooleanField(required=False)
    notify_email = StrictBooleanField(required=False)
    theme = StrictChoiceField(choices=THEMES, required=False)
    pricing = PricingSerializer(required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {key: RETIRED.get(key, "Unknown preference.") for key in sorted(unknown, key=str)}
                )
        return super().to_internal_value(data)


def validate_update(data: Any) -> dict[str, Any]:
    """A checked partial update, or serializers.ValidationError (a 400 in the error shape)."""
    serializer = PreferencesSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def merge(stored: Any, update: dict[str, Any]) -> dict[str, Any]:
    """The stored preferences (read leniently) with a validated update applied; always the full schema."""
    current = read(stored).as_json()
    for key, value in update.items():
        if key == "pricing":
            current["pricing"] = {**current["pricing"], **dict(value)}
        elif key == "favourite_sports":
            current[key] = list(dict.fromkeys(value))
        else:
            current[key] = value
    return current


def _pick(raw: dict, key: str, valid: Any, default: Any) -> Any:
    value = raw.get(key, default)
    return value if valid(value) else default


def read(stored: Any) -> Preferences:
    """Typed preferences from whatever is stored; a value that does not fit reads as its default."""
    raw = stored if isinstance(stored, dict) else {}
    if any(key in raw for key in ("ui", "notifications", "sports")):
        raw = {**from_legacy(raw), **{k: v for k, v in raw.items() if k in PreferencesSerializer().fields}}
    pricing = _section(raw, "pricing")
    sports = raw.get("favourite_sports")
    if not (
        isinstance(sports, list)
        and len(sports) <= MAX_FAVOURITE_SPORTS
        and all(isinstance(s, str) and SPORT_KEY.match(s) for s in sports)
    ):
        sports = []
    is_bool = lambda value: isinstance(value, bool)  # noqa: E731
    return Preferences(
        odds_format=_pick(raw, "odds_format", lambda v: v in dict(ODDS_FORMATS), DEFAULTS.odds_format),
        favourite_sports=tuple(sports),
        notify_settlements=_pick(raw, "notify_settlements", is_bool, DEFAULTS.notify_settlements),
        notify_deposits=_pick(raw, "notify_deposits", is_bool, DEFAULTS.notify_deposits),
        notify_email=_pick(raw, "notify_email", is_bool, DEFAULTS.notify_email),
        theme=_pick(raw, "theme", lambda v: v in dict(THEMES), DEFAULTS.theme),
        devig_method=_pick(
            pricing, "devig_method", lambda v: v in dict(DEVIG_METHODS), DEFAULTS.devig_method
        ),
        reference=_pick(pricing, "reference", lambda v: v in dict(REFERENCES), DEFAULTS.reference),
    )


def _section(raw: dict[str, Any], name: str) -> dict[str, Any]:
    """The nested object `raw[name]`, or an empty one when it is missing or not an object."""
    value = raw.get(name)
    return value if isinstance(value, dict) else {}


def from_legacy(legacy: dict[str, Any]) -> dict[str, Any]:
    """The nested shape stored before this schema (`ui`, `notifications`, `sports`) in the flat one."""
    ui = _section(legacy, "ui")
    notifications = _section(legacy, "notifications")
    pricing = _section(legacy, "pricing")
    converted = {
        "odds_format": ui.get("odds_format", DEFAULTS.odds_format),
        "favourite_sports": legacy.get("sports", []),
        "notify_settlements": notifications.get("bet_settled", DEFAULTS.notify_settlements),
        "notify_deposits": notifications.get("deposits", DEFAULTS.notify_deposits),
        "notify_email": notifications.get("email", DEFAULTS.notify_email),
        "theme": ui.get("theme", DEFAULTS.theme),
        "pricing": {
            "devig_method": pricing.get("devig_method", DEFAULTS.devig_method),
            "reference": pricing.get("reference", DEFAULTS.reference),
        },
    }
    return read(converted).as_json()


def default_preferences() -> dict[str, Any]:
    return DEFAULTS.as_json()
