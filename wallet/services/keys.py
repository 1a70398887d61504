"""Housekeeping of the idempotency keys."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone


def idempotency_keys_prune(*, older_than: timedelta = timedelta(hours=24)) -> int:
    """Delete idempotency keys older than `older_than` (at least 24 hours are kept)."""
    from wallet.models import IdempotencyKey

    older_than = max(older_than, timedelta(hours=24))
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
