"""Re-authentication before a sensitive step: the one helper for pages and the API.

A sensitive step is anything that lets someone holding a signed-in browser (or a token) keep
or take the account or its money: making API tokens, withdrawing, email add / make primary /
remove, password change, two-factor changes, closing the account. Use this module for any new
one; do not check sessions or tokens by hand.

Pages (a session)::

    from betthat.users.reauth import reauthentication_required

    @reauthentication_required
    @require_POST
    def account_close(request): ...

    class AccountCloseView(ReauthenticationRequiredMixin, FormView): ...

  A signed-out visitor goes to the login page. A signed-in one who has not confirmed the
  password (or a two-factor code) in the last `ACCOUNT_REAUTHENTICATION_TIMEOUT` seconds goes
  to allauth's `/accounts/reauthenticate/`; a POST is kept and replayed once they have.

API (DRF)::

    class AccountCloseApi(APIView):
        permission_classes = [IsActiveUser, RecentlyAuthenticated]

  or call `require_recent_authentication(request)` first thing in the handler. Answers:

  - no credentials: 401 `not_authenticated`;
  - a session that has not re-authenticated recently: 403 `reauthentication_required`,
    `details.reauthenticate_url` says where to confirm the password;
  - a token made from a signed-in page (`ApiToken.Source.SESSION`): 403
    `reauthentication_required`, `details.token_url` names the endpoint that makes a token
    able to do this (`POST /api/v1/auth/token/`, with the password and two-factor code).
  - a token made at that endpoint (`ApiToken.Source.CREDENTIALS`) passes: it was made with the
    password and code, which is the proof the step needs. Such a token is as strong as the
    credentials for its lifetime (30 days) and is revoked by a password change.

Why page-made tokens are weaker: a session's proof lasts a few minutes, a token a month. A
token minted from a page (which itself needs a re-authenticated session) would otherwise turn
five minutes of proof into thirty days of withdrawals for whoever found an open laptop.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from allauth.account.internal.flows.reauthentication import did_recently_reauthenticate
from allauth.core.exceptions import ReauthenticationRequired
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from betthat.core.errors import ApplicationError
from betthat.users.models import ApiToken

CODE = "reauthentication_required"

View = TypeVar("View", bound=Callable[..., HttpResponse])


def has_recent_authentication(request: HttpRequest | Request) -> bool:
    """True if this request may take a sensitive step now: a session that confirmed the
    password or a two-factor code within ACCOUNT_REAUTHENTICATION_TIMEOUT, or a token made
    with the credentials. False for anything else, including anonymous requests."""
    user = request.user
    if user is None or not user.is_authenticated:
        return False
    auth = getattr(request, "auth", None)
    if isinstance(auth, ApiToken):
        return auth.may_take_sensitive_steps
    django_request = request._request if isinstance(request, Request) else request
    return did_recently_reauthenticate(django_request)


def require_recent_authentication(request: HttpRequest | Request) -> None:
    """Raise the API's answer (see the module docstring) unless `has_recent_authentication`."""
    user = request.user
    if user is None or not user.is_authenticated:
        raise ApplicationError("Sign in first.", code="not_authenticated", status=401)
    if has_recent_authentication(request):
        return
    if isinstance(getattr(request, "auth", None), ApiToken):
        raise ApplicationError(
            "This token was made from a signed-in page and cannot take this step. Make a token "
            "with your password (and two-factor code) at POST /api/v1/auth/token/.",
            code=CODE,
            status=403,
            details={"token_url": reverse("api:auth-token")},
        )
    raise ApplicationError(
        "Confirm your password (or two-factor code) first.",
        code=CODE,
        status=403,
        details={"reauthenticate_url": reverse("account_reauthenticate")},
    )


class RecentlyAuthenticated(BasePermission):
    """DRF permission: `require_recent_authentication` (put it after IsActiveUser)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        require_recent_authentication(request)
        return True


def _page_guard(request: HttpRequest) -> None:
    if not did_recently_reauthenticate(request):
        # allauth's AccountMiddleware turns this into a redirect to /accounts/reauthenticate/
        # and keeps a POST's body to replay it after the password is confirmed.
        raise ReauthenticationRequired()


def reauthentication_required(view: View) -> View:
    """Page decorator: signed in (else the login page), then re-authenticated recently (else
    allauth's password / code prompt, after which the request resumes). Every method."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _page_guard(request)
        return view(request, *args, **kwargs)

    return cast(View, login_required(wrapper))


class ReauthenticationRequiredMixin(LoginRequiredMixin):
    """Class-based page views: the same as `reauthentication_required`."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated:
            _page_guard(request)
        return super().dispatch(request, *args, **kwargs)
