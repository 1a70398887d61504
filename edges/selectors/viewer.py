"""What the viewer's account says about the board: stake sizing, favourite sports,
pricing preferences."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from betthat.core.money import to_minor
from edges import pricing


@dataclass(frozen=True)
class ViewerSizing:
    available_minor: int
    risk_tolerance: str
    max_kelly_fraction: Decimal
    cap_minor: int | None
    currency: str = "USD"

    def stake_minor(self, kelly: float) -> int:
        return pricing.recommended_stake_minor(
            available_minor=self.available_minor,
            kelly_fraction=kelly,
            risk_tolerance=self.risk_tolerance,
            max_kelly_fraction=self.max_kelly_fraction,
            cap_minor=self.cap_minor,
        )


def viewer_sizing(*, user: Any, available_minor: int, currency: str = "USD") -> ViewerSizing:
    """What the viewer's recommended stakes rest on: the available balance the caller read
    (edges does not read wallets), risk tolerance, max Kelly fraction and max bet size."""
    cap = None
    max_bet = getattr(user, "max_bet_size", None)
    if max_bet is not None:
        cap = to_minor(Decimal(max_bet.amount), str(max_bet.currency))
    return ViewerSizing(
        available_minor=available_minor,
        risk_tolerance=getattr(user, "risk_tolerance", "medium") or "medium",
        max_kelly_fraction=Decimal(getattr(user, "max_kelly_fraction", Decimal("0.25"))),
        cap_minor=cap,
        currency=currency,
    )


MAX_FAVOURITE_SPORTS = 50


def favourite_sports(*, user: Any) -> tuple[str, ...]:
    """The viewer's favourite sport keys (preference `favourite_sports`; the older `sports`
    key is read too). Anything that is not a list of sport keys is ignored."""
    preferences = getattr(user, "preferences", None)
    if not isinstance(preferences, dict):
        return ()
    value = preferences.get("favourite_sports", preferences.get("sports"))
    if not isinstance(value, list):
        return ()
    keys = [v for v in value if isinstance(v, str) and 0 < len(v) <= 60]
    return tuple(dict.fromkeys(keys))[:MAX_FAVOURITE_SPORTS]


def pricing_preferences(*, user) -> tuple[str, str]:
    prefs = (getattr(user, "preferences", None) or {}).get("pricing") or {}
    method, reference = prefs.get("devig_method"), prefs.get("reference")
    return (
        method if isinstance(method, str) and method in pricing.DEVIG_METHODS else "multiplicative",
        reference if isinstance(reference, str) and reference in pricing.REFERENCES else "sharp",
    )
