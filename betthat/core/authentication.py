"""API authentication and the active-user permission (imported by DRF settings, so
this module must not import rest_framework.views)."""

from __future__ import annotations

from rest_framework import exceptions, permissions
from rest_framework.authentication import TokenAuthentication, get_authorization_header

from betthat.core.errors import ApplicationError


class BearerOrTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` or `Bearer <key>`.

    A suspended user still authenticates here so that the permission below can answer
    403 `account_suspended` rather than an ambiguous 401.
    """

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() not in (b"token", b"bearer"):
            return None
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        return self.authenticate_credentials(key)

    def get_model(self):
        from django.apps import apps

        return apps.get_model("users", "ApiToken")

    def authenticate_credentials(self, key):
        """The token (looked up by the hash of its key) with its user: from the Redis token
        cache (betthat/users/token_cache.py: no database round trip, revocation immediate),
        else one query, whose result fills the cache."""
        from betthat.users import token_cache

        model = self.get_model()
        key_hash = model.hash(key)
        try:
            cached = token_cache.lookup(key_hash)
        except token_cache.Revoked:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if cached is not None:
            user, token = cached
        else:
            try:
                token = model.objects.select_related("user").get(key_hash=key_hash)
            except model.DoesNotExist:
                raise exceptions.AuthenticationFailed("Invalid token.") from None
            user = token.user
            if not token.is_expired and user.deleted_at is None:
                token_cache.store(key_hash, user, token)
        token.user = user
        if token.is_expired:
            raise exceptions.AuthenticationFailed("Token expired: ask for a new one.")
        if user.deleted_at is not None:
            raise exceptions.AuthenticationFailed("User deleted.")
        return (user, token)


class IsActiveUser(permissions.IsAuthenticated):
    message = "Authentication credentials were not provided."

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        user = request.user
        if getattr(user, "is_suspended", False) or not user.is_active:
            raise ApplicationError("This account is suspended.", code="account_suspended", status=403)
        return True
