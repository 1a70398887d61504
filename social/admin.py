"""Staff console for social: profiles (search by handle, hide or restore, reset a bio;
each through the services and audited), follows, leaderboards and their runs."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from betthat.core.errors import ApplicationError
from social.models import Follow, LeaderboardRank, LeaderboardRun, Profile, PublicBet
from social.services import profile_hide, profile_reset_bio, profile_restore


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=250, widget=forms.Textarea(attrs={"rows": 3}), label="Reason (audited)"
    )


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = (
        "handle",
        "user",
        "is_public",
        "stake_visibility",
        "live_delay_sec",
        "hidden_at",
        "created_at",
    )
    list_filter = ("is_public", "stake_visibility", ("hidden_at", admin.EmptyFieldListFilter))
    search_fields = ("handle", "user__email")
    readonly_fields = (
        "user",
        "handle",
        "is_public",
        "public_since",
        "stake_visibility",
        "live_delay_sec",
        "bio",
        "idp_user_id",
        "hidden_at",
        "hidden_reason",
        "created_at",
        "updated_at",
    )
    actions = ["hide_profiles", "restore_profiles", "reset_bios"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_moderate_profile_permission(self, request):
        return request.user.has_perm("social.moderate_profile")

    def _with_reason(self, request, queryset, title: str, action: str, apply):
        if "apply" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid():
                done = 0
                for profile in queryset:
                    try:
                        apply(profile, form.cleaned_data["reason"])
                        done += 1
                    except ApplicationError as error:
                        self.message_user(request, f"@{profile.handle}: {error.message}", messages.ERROR)
                self.message_user(request, f"{title}: {done} profile(s).", messages.SUCCESS)
                return None
        else:
            form = ReasonForm()
        return TemplateResponse(
            request,
            "social/admin/reason.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "form": form,
                "profiles": queryset,
                "action": action,
                "opts": self.model._meta,
            },
        )

    @admin.action(
        description="Hide selected profiles (from everyone but their owner)", permissions=["moderate_profile"]
    )
    def hide_profiles(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "Hide profiles",
            "hide_profiles",
            lambda p, reason: profile_hide(actor=request.user, profile_id=p.pk, reason=reason),
        )

    @admin.action(description="Restore selected hidden profiles", permissions=["moderate_profile"])
    def restore_profiles(self, request, queryset):
        done = 0
        for profile in queryset:
            try:
                profile_restore(actor=request.user, profile_id=profile.pk)
                done += 1
            except ApplicationError as error:
                self.message_user(request, f"@{profile.handle}: {error.message}", messages.ERROR)
        self.message_user(request, f"Restored {done} profile(s).", messages.SUCCESS)
        return redirect(request.get_full_path())

    @admin.action(description="Reset the bio of selected profiles", permissions=["moderate_profile"])
    def reset_bios(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "Reset bios",
            "reset_bios",
            lambda p, reason: profile_reset_bio(actor=request.user, profile_id=p.pk, reason=reason),
        )


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ("follower", "followee", "created_at")
    search_fields = ("follower__email", "followee__email", "followee__social_profile__handle")
    readonly_fields = ("follower", "followee", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PublicBet)
class PublicBetAdmin(admin.ModelAdmin):
    list_display = (
        "bet_id",
        "user",
        "placed_at",
        "visible_from",
        "stake_mode",
        "status",
        "result",
        "released_at",
    )
    list_filter = ("stake_mode", "status")
    search_fields = ("user__email", "user__social_profile__handle")
    readonly_fields = [f.name for f in PublicBet._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LeaderboardRank)
class LeaderboardRankAdmin(admin.ModelAdmin):
    list_display = ("window", "metric", "rank", "user", "value", "n_bets", "updated_at")
    list_filter = ("window", "metric")
    search_fields = ("user__social_profile__handle",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LeaderboardRun)
class LeaderboardRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "duration_ms", "min_bets", "rows")
    readonly_fields = ("started_at", "finished_at", "duration_ms", "rows", "min_bets")

    def has_add_permission(self, request):
        return False
