from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import capfirst

from betthat.core.errors import ApplicationError
from betthat.core.models import AuditRecord, OutboxEvent, ProcessedEvent


def decide_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    decide: Callable[[int], object],
    verb: str,
) -> None:
    """An admin action that calls a service on each selected row in pk order (`decide(pk)`):
    a refusal is shown for its row and the others go on; then how many were `verb`."""
    noun = str(queryset.model._meta.verbose_name)
    done = 0
    for pk in queryset.order_by("pk").values_list("pk", flat=True):
        try:
            decide(pk)
        except ApplicationError as error:
            modeladmin.message_user(request, f"{capfirst(noun)} #{pk}: {error.message}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{done} {noun}(s) {verb}.", messages.SUCCESS)


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["id", "event_type", "created_at", "delivered_at", "attempts", "short_error"]
    list_filter = ["event_type", ("delivered_at", admin.EmptyFieldListFilter)]
    search_fields = ["event_id", "event_type"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    actions = ["redeliver"]
    date_hierarchy = "created_at"

    @admin.display(description="last error")
    def short_error(self, obj):
        return (obj.last_error or "")[:80]

    @admin.action(description="Deliver again (handlers stay idempotent)")
    def redeliver(self, request, queryset):
        count = queryset.update(delivered_at=None)
        self.message_user(request, f"{count} event(s) queued for redelivery.", messages.SUCCESS)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ProcessedEvent)
class ProcessedEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "handler", "processed_at"]
    search_fields = ["event_id", "handler"]
    readonly_fields = ["event_id", "handler", "processed_at"]

    def has_add_permission(self, request):
        return False


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = ["path", "stream", "lines", "updated_at"]
    list_filter = ["stream"]
    readonly_fields = ["path", "stream", "lines", "updated_at"]

    def has_add_permission(self, request):
        return False
