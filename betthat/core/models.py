"""Base models shared by every app: timestamps, authorship and soft delete."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditedModel(TimeStampedModel):
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class SoftDeleteModel(models.Model):
    """Rows are hidden, never removed: `objects` shows the living, `all_objects` everything."""

    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it describes.

    The relay delivers each row at least once to the registered handlers and to a Redis
    stream per event type; handlers are idempotent by `event_id` (see ProcessedEvent).
    """

    event_id = models.UUIDField(unique=True, editable=False)
    event_type = models.CharField(max_length=80)  # outbox_event_type_idx, without a LIKE twin
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["id"], name="outbox_undelivered_idx", condition=models.Q(delivered_at__isnull=True)
            ),
            models.Index(fields=["event_type"], name="outbox_event_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class ProcessedEvent(models.Model):
    """One row per (event, handler) that has run: redelivery of an event is a no-op."""

    event_id = models.UUIDField()
    handler = models.CharField(max_length=200)
    processed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_id", "handler"], name="processed_event_once")]

    def __str__(self) -> str:
        return f"{self.handler} handled {self.event_id}"


class AuditRecord(models.Model):
    """Index of what was appended to the audit store (object storage holds the lines)."""

    stream = models.CharField(max_length=80, db_index=True)
    path = models.CharField(max_length=300)
    lines = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["path"], name="audit_record_path_unique")]

    def __str__(self) -> str:
        return f"{self.path} ({self.lines} lines)"
