"""Chat in the staff console: rooms, the moderation queue of reported messages, mutes.

Messages themselves live in a partitioned table with a composite key, which Django's admin
cannot list; staff reach them through reports (the queue) and act through the services, so
every action checks `chat.moderate_chat` and lands in the audit store."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from betthat.core.errors import ApplicationError
from chat import services
from chat.models import Message, Mute, Report, Room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "slug", "event_id", "slow_mode_sec", "closed_at")
    list_filter = ("kind",)
    search_fields = ("title", "slug")
    readonly_fields = ("kind", "slug", "event_id", "created_at", "updated_at")
    fields = ("title", "kind", "slug", "event_id", "slow_mode_sec", "closed_at", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        if change and "slow_mode_sec" in form.changed_data:
            seconds = obj.slow_mode_sec
            obj.slow_mode_sec = form.initial.get("slow_mode_sec", 0)
            super().save_model(request, obj, form, change)
            services.room_set_slow_mode(staff=request.user, room=obj, seconds=seconds)
            return
        super().save_model(request, obj, form, change)


def _run(modeladmin, request, queryset, label, action):
    done = 0
    for report in queryset:
        try:
            action(report)
            done += 1
        except ApplicationError as problem:
            modeladmin.message_user(request, f"{report}: {problem.message}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{label}: {done}.", messages.SUCCESS)


def _message(report: Report) -> Message:
    return services.message_get(msg_id=report.msg_id)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """The moderation queue: open reports first."""

    list_display = ("created_at", "room", "author", "text", "reason", "reporter", "status")
    list_filter = ("status", "room__kind")
    search_fields = ("text", "author__email", "reporter__email")
    readonly_fields = [f.name for f in Report._meta.fields]
    actions = [
        "hide_messages",
        "restore_messages",
        "dismiss_reports",
        "mute_authors_hour",
        "mute_authors_day",
    ]

    def has_add_permission(self, request):
        return False

    def has_moderate_permission(self, request):
        return request.user.has_perm("chat.moderate_chat")

    @admin.action(description="Hide the reported messages", permissions=["moderate"])
    def hide_messages(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            "Hidden",
            lambda r: services.message_hide(staff=request.user, message=_message(r), reason=r.reason),
        )

    @admin.action(description="Restore the messages", permissions=["moderate"])
    def restore_messages(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            "Restored",
            lambda r: services.message_restore(staff=request.user, message=_message(r)),
        )

    @admin.action(description="Dismiss the reports", permissions=["moderate"])
    def dismiss_reports(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            "Dismissed",
            lambda r: services.report_dismiss(staff=request.user, report=r),
        )

    @admin.action(description="Mute the authors in that room for an hour", permissions=["moderate"])
    def mute_authors_hour(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            "Muted",
            lambda r: services.user_mute(
                staff=request.user, user=r.author, room=r.room, minutes=60, reason="reported message"
            ),
        )

    @admin.action(description="Mute the authors everywhere for a day", permissions=["moderate"])
    def mute_authors_day(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            "Muted",
            lambda r: services.user_mute(
                staff=request.user, user=r.author, minutes=24 * 60, reason="reported message"
            ),
        )


class MuteForm(forms.ModelForm):
    class Meta:
        model = Mute
        fields = ("user", "room", "until", "reason")

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until <= timezone.now() + timedelta(minutes=1):
            raise forms.ValidationError("A mute ends at least a minute from now.")
        return until

    def clean_user(self):
        user = self.cleaned_data["user"]
        if getattr(self, "staff", None) is not None and user.pk == self.staff.pk:
            raise forms.ValidationError("You cannot mute yourself.")
        return user


@admin.register(Mute)
class MuteAdmin(admin.ModelAdmin):
    form = MuteForm
    list_display = ("user", "room", "until", "reason", "created_by", "created_at")
    list_filter = ("room",)
    search_fields = ("user__email",)
    autocomplete_fields = ("user",)
    actions = ["lift"]

    def get_readonly_fields(self, request, obj=None):
        return (
            ("user", "room", "until", "reason", "created_by", "created_at")
            if obj
            else ("created_by", "created_at")
        )

    def has_moderate_permission(self, request):
        return request.user.has_perm("chat.moderate_chat")

    def save_model(self, request, obj, form, change):
        if change:
            return
        minutes = max(1, int((obj.until - timezone.now()).total_seconds() // 60))
        mute = services.user_mute(
            staff=request.user, user=obj.user, room=obj.room, minutes=minutes, reason=obj.reason
        )
        obj.pk, obj.created_by, obj.until = mute.pk, mute.created_by, mute.until

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.staff = request.user
        return form

    @admin.action(description="Lift the mutes now", permissions=["moderate"])
    def lift(self, request, queryset):
        for mute in queryset:
            services.user_unmute(staff=request.user, mute=mute)
        self.message_user(request, "Lifted.", messages.SUCCESS)
