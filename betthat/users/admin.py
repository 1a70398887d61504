from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from betthat.core.errors import ApplicationError
from betthat.core.money import to_minor
from betthat.users import kyc, services
from betthat.users.http import current_user
from betthat.users.models import ApiToken, EmailNotification, KYCStatus, User


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The admin signs in through allauth's login (rate limits, two-factor), never its own form."""
    admin_index = reverse("admin:index")
    next_url = request.GET.get("next") or admin_index
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=False):
        next_url = admin_index
    if request.user.is_authenticated:
        if request.user.is_active and request.user.is_staff:
            return redirect(next_url)
        raise PermissionDenied("This account is not staff.")
    return redirect_to_login(next_url, settings.LOGIN_URL)


admin.site.login = admin_login  # type: ignore[method-assign]


class _IsSetFilter(admin.SimpleListFilter):
    """Users whose `field` is set ("yes") or not ("no")."""

    field = ""
    options: list[tuple[str, str]] = []

    def lookups(self, request, model_admin):
        return self.options

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(**{f"{self.field}__isnull": self.value() == "no"})
        return queryset


class DeletedFilter(_IsSetFilter):
    title = "deleted"
    parameter_name = "deleted"
    field = "deleted_at"
    options = [("no", "Not deleted"), ("yes", "Deleted")]


def _log(request: HttpRequest, user: User, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=current_user(request).pk,
        queryset=[user],
        action_flag=CHANGE,
        change_message=message,
        single_object=True,
    )


def _bulk(service: Callable[..., User], verb: str, permission: str) -> Callable:
    """An admin action calling `service` for each selected user, as the acting staff member
    (audited by the service), logged in the admin log; it needs `users.<permission>`."""

    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = 0
        for user in queryset:
            actor = current_user(request)
            service(user=user, actor=actor, reason=f"admin action by {actor.email}")
            _log(request, user, f"{verb} (admin action)")
            count += 1
        modeladmin.message_user(request, f"{verb} {count} user(s).", messages.SUCCESS)

    action.short_description = f"{verb} selected users"  # type: ignore[attr-defined]
    action.__name__ = f"action_{service.__name__}"
    action.allowed_permissions = (permission,)  # type: ignore[attr-defined]
    return action


@dataclass(frozen=True)
class Outcome:
    """What a staff form did: the message for the staff member, the admin log line (None when
    nothing changed) and where to go next (None: the user's change page)."""

    message: str
    log: str | None = None
    level: int = messages.SUCCESS
    next_url: str | None = None


def _staff_form_page(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    user_id: int,
    *,
    permission: str,
    form_class: type[forms.Form],
    template: str,
    title: Callable[[User], str],
    act: Callable[[User, User, dict[str, Any]], Outcome],
    error_field: str | None = None,
    context: Callable[[User], dict[str, Any]] | None = None,
) -> HttpResponse:
    """An admin page where staff with `users.<permission>` act on one user through a form:
    on a valid POST `act(target, actor, cleaned_data)` calls the audited service, then the
    admin log, the message and a redirect; a refusal (ApplicationError) shows on the form, on
    the field it names or else on `error_field`."""
    if not request.user.has_perm(f"users.{permission}"):
        raise PermissionDenied
    target = get_object_or_404(User.all_objects, pk=user_id)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = act(target, current_user(request), form.cleaned_data)
        except ApplicationError as exc:
            field = exc.details.get("field")
            form.add_error(field if field in form.fields else error_field, exc.message)
        else:
            if outcome.log is not None:
                _log(request, target, outcome.log)
            modeladmin.message_user(request, outcome.message, outcome.level)
            return redirect(outcome.next_url or reverse("admin:users_user_change", args=[target.pk]))
    page = {
        **modeladmin.admin_site.each_context(request),
        "title": title(target),
        "target": target,
        **(context(target) if context else {}),
        "form": form,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, template, page)


class LimitsForm(forms.Form):
    """Staff lower limits at once; a raise is only ever the bettor's, after the cooling-off."""

    max_bet_size = forms.DecimalField(
        required=False, min_value=Decimal("0.01"), decimal_places=2, max_digits=14
    )
    daily_bet_limit = forms.DecimalField(
        required=False, min_value=Decimal("0.01"), decimal_places=2, max_digits=14
    )
    monthly_bet_limit = forms.DecimalField(
        required=False, min_value=Decimal("0.01"), decimal_places=2, max_digits=14
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class FreezeForm(forms.Form):
    """Freezing or unfreezing a user's money always says why (it goes to the audit trail)."""

    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class FrozenFilter(_IsSetFilter):
    title = "money frozen"
    parameter_name = "frozen"
    field = "frozen_at"
    options = [("yes", "Frozen"), ("no", "Not frozen")]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["-created_at"]
    list_display = [
        "email",
        "name",
        "status",
        "verification_level",
        "frozen_at",
        "risk_tolerance",
        "max_bet_size",
        "is_staff",
        "created_at",
        "deleted_at",
    ]
    list_filter = ["status", "verification_level", FrozenFilter, "risk_tolerance", "is_staff", DeletedFilter]
    search_fields = ["email", "name", "external_id", "phone"]
    # Status, verification, limits and self-exclusion change only through audited actions
    # (and limits only downwards: the bettor's raises wait out the cooling-off).
    readonly_fields = [
        "external_id",
        "created_at",
        "updated_at",
        "last_login",
        "deleted_at",
        "created_by",
        "status",
        "verification_level",
        "self_excluded_until",
        "frozen_at",
        "frozen_reason",
        "closed_at",
        "max_bet_size",
        "daily_bet_limit",
        "monthly_bet_limit",
        "preferences",
    ]
    actions = [
        _bulk(services.user_verify, "Verified", "verify_user"),
        _bulk(services.user_suspend, "Suspended", "suspend_user"),
        _bulk(services.user_reactivate, "Reactivated", "reactivate_user"),
        _bulk(services.user_soft_delete, "Soft-deleted", "soft_delete_user"),
        _bulk(services.user_restore, "Restored", "restore_user"),
    ]
    fieldsets = [
        (None, {"fields": ["email", "password", "external_id"]}),
        ("Profile", {"fields": ["name", "phone", "timezone", "preferences"]}),
        (
            "Status",
            {
                "fields": [
                    "status",
                    "verification_level",
                    "self_excluded_until",
                    "frozen_at",
                    "frozen_reason",
                    "closed_at",
                    "deleted_at",
                ]
            },
        ),
        (
            "Limits and sizing",
            {
                "description": "Limits are lowered with “Lower limits” (audited); only the bettor can raise them.",
                "fields": [
                    "max_bet_size",
                    "daily_bet_limit",
                    "monthly_bet_limit",
                    "risk_tolerance",
                    "auto_kelly_sizing",
                    "max_kelly_fraction",
                ],
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
    change_form_template = "users/admin/user_change_form.html"

    def _has(self, request: HttpRequest, codename: str) -> bool:
        return request.user.has_perm(f"users.{codename}")

    def has_verify_user_permission(self, request: HttpRequest) -> bool:
        return self._has(request, "verify_user")

    def has_suspend_user_permission(self, request: HttpRequest) -> bool:
        return self._has(request, "suspend_user")

    def has_reactivate_user_permission(self, request: HttpRequest) -> bool:
        return self._has(request, "reactivate_user")

    def has_soft_delete_user_permission(self, request: HttpRequest) -> bool:
        return self._has(request, "soft_delete_user")

    def has_restore_user_permission(self, request: HttpRequest) -> bool:
        return self._has(request, "restore_user")

    def get_queryset(self, request):
        # Staff see soft-deleted users too, so they can restore them.
        return User.all_objects.all()

    def get_urls(self):
        extra = [
            path(
                "<int:user_id>/limits/",
                self.admin_site.admin_view(self.limits_view),
                name="users_user_limits",
            ),
            path(
                "<int:user_id>/freeze/",
                self.admin_site.admin_view(self.freeze_view),
                name="users_user_freeze",
            ),
        ]
        return extra + super().get_urls()

    def limits_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        """Lower a user's betting limits, with a reason (`users.change_user_limits`)."""

        def lower(user: User, actor: User, data: dict[str, Any]) -> Outcome:
            limits = {
                name: to_minor(data[name], str(getattr(user, name).currency))
                for name in services.STAFF_LIMIT_FIELDS
                if data.get(name) is not None
            }
            changes = services.user_limits_lower(user=user, actor=actor, limits=limits, reason=data["reason"])
            if not changes:
                return Outcome("Nothing to change.", level=messages.INFO)
            return Outcome("Limits lowered.", log="Lowered limits: " + ", ".join(sorted(changes)))

        return _staff_form_page(
            self,
            request,
            user_id,
            permission="change_user_limits",
            form_class=LimitsForm,
            template="users/admin/limits.html",
            title=lambda user: f"Lower limits of {user.email}",
            act=lower,
        )

    def freeze_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        """Freeze a user's money, or lift the freeze, with a reason (`users.freeze_user`)."""

        def toggle(user: User, actor: User, data: dict[str, Any]) -> Outcome:
            reason = data["reason"]
            if user.is_frozen:
                services.user_unfreeze(user=user, actor=actor, reason=reason)
                verb = "Unfroze"
            else:
                services.user_freeze(user=user, actor=actor, reason=reason)
                verb = "Froze"
            return Outcome(f"{verb} {user.email}.", log=f"{verb} the account's money: {reason}")

        return _staff_form_page(
            self,
            request,
            user_id,
            permission="freeze_user",
            form_class=FreezeForm,
            template="users/admin/freeze.html",
            title=lambda user: f"{'Unfreeze' if user.is_frozen else 'Freeze'} {user.email}",
            act=toggle,
            error_field="reason",
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any):
        context["can_override_kyc"] = self._has(request, "override_kyc")
        context["can_change_limits"] = self._has(request, "change_user_limits")
        context["can_freeze"] = self._has(request, "freeze_user")
        return super().render_change_form(request, context, *args, **kwargs)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff can see a user's API tokens and revoke them (delete); keys are never stored."""

    list_display = ["prefix", "name", "user", "created_at", "expires_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "name", "prefix"]
    readonly_fields = ["user", "prefix", "name", "created_at", "expires_at"]
    exclude = ["key_hash"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False


@admin.register(EmailNotification)
class EmailNotificationAdmin(admin.ModelAdmin):
    """Notification emails owed and sent: staff see what went out and what failed."""

    list_display = ["kind", "user", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["user"]
    search_fields = ["user__email", "dedupe_key"]
    readonly_fields = [
        "user", "kind", "dedupe_key", "context", "status", "attempts", "last_error",
        "created_at", "claimed_at", "sent_at",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: EmailNotification | None = None) -> bool:
        return False


class KycOverrideForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(KYCStatus.Status.APPROVED, "Approve"), (KYCStatus.Status.REJECTED, "Reject")]
    )
    level = forms.TypedChoiceField(
        coerce=int,
        choices=[
            (User.VerificationLevel.IDENTITY, "Identity verified (2)"),
            (User.VerificationLevel.FULL, "Full (3)"),
        ],
        help_text="The level an approval grants (ignored for a rejection).",
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


@admin.register(KYCStatus)
class KYCStatusAdmin(admin.ModelAdmin):
    """Staff see every identity check and override one (users.override_kyc, audited)."""

    list_display = [
        "user",
        "provider",
        "provider_reference",
        "status",
        "level",
        "country",
        "submitted_at",
        "decided_at",
    ]
    list_filter = ["status", "provider", "level"]
    list_select_related = ["user"]
    search_fields = ["user__email", "provider_reference"]
    readonly_fields = [f.name for f in KYCStatus._meta.fields]
    change_form_template = "users/admin/kyc_change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: KYCStatus | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: KYCStatus | None = None) -> bool:
        return False

    def get_urls(self):
        extra = [
            path(
                "override/<int:user_id>/",
                self.admin_site.admin_view(self.override_view),
                name="users_kycstatus_override",
            )
        ]
        return extra + super().get_urls()

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any):
        context["can_override"] = request.user.has_perm("users.override_kyc")
        return super().render_change_form(request, context, *args, **kwargs)

    def override_view(self, request: HttpRequest, user_id: int) -> HttpResponse:
        """Approve or reject a user's identity check by hand, with a reason (`users.override_kyc`)."""

        def override(user: User, actor: User, data: dict[str, Any]) -> Outcome:
            record = kyc.kyc_override(
                user=user, actor=actor, status=data["status"], level=data["level"], reason=data["reason"]
            )
            return Outcome(
                f"KYC of {user.email}: {record.get_status_display()}.",
                log=f"KYC overridden: {record.status} at level {record.level}",
                next_url=reverse("admin:users_kycstatus_change", args=[record.pk]),
            )

        return _staff_form_page(
            self,
            request,
            user_id,
            permission="override_kyc",
            form_class=KycOverrideForm,
            template="users/admin/kyc_override.html",
            title=lambda user: f"Override the KYC of {user.email}",
            act=override,
            context=lambda user: {"kyc": kyc.kyc_status_for_user(user=user)},
        )
