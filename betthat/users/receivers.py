"""Signal receivers of the users app (connected in UsersConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from betthat.users import services
from betthat.users.models import User
from betthat.users.signals import password_changed


@receiver(password_changed, dispatch_uid="users.revoke_tokens_on_password_change")
def revoke_tokens_on_password_change(sender: type, user: User, **kwargs: Any) -> None:
    """A new password (changed, reset or set by staff) ends every API token of the old one."""
    services.user_tokens_revoke_all(user=user)
