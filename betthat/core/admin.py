from django.contrib import admin, messages

from betthat.core.models import AuditRecord, OutboxEvent, ProcessedEvent


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
