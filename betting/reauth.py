"""Recent re-authentication before an irreversible action (closing one's account).

One small function each for the API and the page, so the shared helper another branch adds
(`betthat/users/reauth.py`) can replace them in one place: allauth's
`reauthentication_required` for pages (the password or an authenticator code, then the POST
resumes), and for a session-authenticated API call 403 `reauthentication_required` with the
URL to confirm at. Token clients are not asked: the token was issued against the password and
the second factor (as for withdrawals, docs/wallet.md).
"""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from allauth.core.exceptions import ReauthenticationRequired
from django.urls import reverse
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from betthat.core.errors import ApplicationError

page_reauthentication_required = reauthentication_required


def require_recent_reauthentication(request: Request, *, action: str) -> None:
    """403 `reauthentication_required` unless a browser session re-authenticated recently."""
    if not isinstance(request.successful_authenticator, SessionAuthentication):
        return
    try:
        reauthentication_required(lambda _request: None)(request._request)
    except ReauthenticationRequired:
        raise ApplicationError(
            f"Confirm your password (or authenticator code) before you {action}.",
            code="reauthentication_required",
            status=403,
            details={"reauthenticate_url": reverse("account_reauthenticate")},
        ) from None
