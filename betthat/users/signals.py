"""Signals of the users app."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after a user's new password is saved (any way in: allauth's pages, the admin, commands).
# Receivers: the user's API tokens are revoked (betthat.users.apps).
password_changed = Signal()
