"""The viewer's bankroll, for recommended stakes, without edges importing the wallet.

Dependency inversion: `settings.BANKROLL_PROVIDER` names the function that reads it (by
default the wallet's `wallet_balances_for_user`), resolved once with `import_string`. The
edges app's pages and API call `viewer_sizing_for`; the selectors take the balance as an
argument. Import contracts keep edges from importing wallet, and this module is the one
seam between them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from edges import selectors

logger = logging.getLogger(__name__)


@cache
def _provider(path: str) -> Callable[..., Any]:
    provider: Callable[..., Any] = import_string(path)
    return provider


def viewer_bankroll_minor(*, user: Any, currency: str = "USD") -> int:
    """The viewer's available balance in minor units. A wallet that cannot be read counts as
    empty: the page shows no recommended stake rather than failing."""
    if not getattr(user, "is_authenticated", False):
        return 0
    try:
        balance = _provider(settings.BANKROLL_PROVIDER)(user=user, currency=currency)
        return int(getattr(balance, "available_minor", balance))
    except Exception:
        logger.warning("bankroll of user %s could not be read", user.pk, exc_info=True)
        return 0


def viewer_sizing_for(*, user: Any, currency: str = "USD") -> selectors.ViewerSizing:
    return selectors.viewer_sizing(
        user=user, available_minor=viewer_bankroll_minor(user=user, currency=currency), currency=currency
    )
