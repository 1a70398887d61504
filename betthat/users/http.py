"""The signed-in user of a page or API request, typed (views run behind login_required or the
API's IsActiveUser, so an anonymous user here is a wiring mistake, refused as such)."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.request import Request

from betthat.core.errors import PermissionDenied
from betthat.users.models import User


def current_user(request: HttpRequest | Request) -> User:
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Sign in first.", code="not_authenticated")
    return user
