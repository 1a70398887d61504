"""Signal receivers of the users app (connected in UsersConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from betthat.users import services, sockets, token_cache
from betthat.users.models import ApiToken, User
from betthat.users.signals import password_changed


@receiver(password_changed, dispatch_uid="users.revoke_tokens_on_password_change")
def revoke_tokens_on_password_change(sender: type, user: User, **kwargs: Any) -> None:
    """A new password (changed, reset or set by staff) ends every API token of the old one."""
    services.user_tokens_revoke_all(user=user)


@receiver(post_delete, sender=ApiToken, dispatch_uid="users.token_cache_revoke_on_delete")
def refuse_deleted_token(sender: type, instance: ApiToken, **kwargs: Any) -> None:
    """Any deletion of a token (the admin, a user's cascade, the services) is refused by the
    Redis token cache as soon as it commits."""
    token_cache.revoke([instance.key_hash])


@receiver(post_save, sender=User, dispatch_uid="users.token_cache_forget_on_save")
def forget_cached_user(sender: type, instance: User, created: bool, **kwargs: Any) -> None:
    """A saved user row (status, limits, verification, ...) is read afresh by the next API
    request: its cached tokens are dropped on commit."""
    if not created:
        token_cache.forget_user(instance.pk)


@receiver(user_logged_out, dispatch_uid="users.close_sockets_on_logout")
def close_sockets_on_logout(sender: type, request: Any, user: Any, **kwargs: Any) -> None:
    """Signing out (the button, the idle timeout, a suspension noticed by a request) closes
    that session's websockets (4401)."""
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        sockets.sockets_end_for_session(session_key)


@receiver(post_save, sender=User, dispatch_uid="users.recheck_sockets_on_save")
def recheck_sockets(sender: type, instance: User, created: bool, **kwargs: Any) -> None:
    """A saved user row (a new password, suspension, soft delete, deactivation) makes each
    of the user's open websockets check its session again; those it ended close with 4401."""
    if not created:
        sockets.sockets_recheck_for_user(instance.pk)
