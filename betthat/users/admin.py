from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from betthat.users import services
from betthat.users.models import User


class DeletedFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", "Not deleted"), ("yes", "Deleted")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


def _bulk(service, verb):
    def action(modeladmin, request, queryset):
        count = 0
        for user in queryset:
            service(user=user)
            count += 1
        modeladmin.message_user(request, f"{verb} {count} user(s).", messages.SUCCESS)

    action.short_description = f"{verb} selected users"
    action.__name__ = f"action_{service.__name__}"
    return action


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["-created_at"]
    list_display = [
        "email",
        "name",
        "status",
        "verification_level",
        "risk_tolerance",
        "max_bet_size",
        "is_staff",
        "created_at",
        "deleted_at",
    ]
    list_filter = ["status", "verification_level", "risk_tolerance", "is_staff", DeletedFilter]
    search_fields = ["email", "name", "external_id", "phone"]
    readonly_fields = ["external_id", "created_at", "updated_at", "last_login", "deleted_at", "created_by"]
    actions = [
        _bulk(services.user_verify, "Verified"),
        _bulk(services.user_suspend, "Suspended"),
        _bulk(services.user_reactivate, "Reactivated"),
        _bulk(services.user_soft_delete, "Soft-deleted"),
        _bulk(services.user_restore, "Restored"),
    ]
    fieldsets = [
        (None, {"fields": ["email", "password", "external_id"]}),
        ("Profile", {"fields": ["name", "phone", "timezone", "preferences"]}),
        ("Status", {"fields": ["status", "verification_level", "self_excluded_until", "deleted_at"]}),
        (
            "Limits and sizing",
            {
                "fields": [
                    "max_bet_size",
                    "daily_bet_limit",
                    "monthly_bet_limit",
                    "risk_tolerance",
                    "auto_kelly_sizing",
                    "max_kelly_fraction",
                ]
            },
        ),
        (
            "Permissions",
            {
                "classes": ["collapse"],
                "fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"],
            },
        ),
        ("Audit", {"fields": ["created_at", "updated_at", "created_by", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]

    def get_queryset(self, request):
        # Staff see soft-deleted users too, so they can restore them.
        return User.all_objects.all()

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
