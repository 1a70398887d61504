"""Pages of the social app: profiles, settings, the feed, the leaderboards."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from betthat.core.errors import ApplicationError, NotFound
from social import selectors, services
from social.forms import ProfileSettingsForm
from social.models import LeaderboardMetric, LeaderboardWindow


def _profile_or_404(handle: str, viewer):
    try:
        return selectors.profile_get_for_viewer(handle=handle, viewer=viewer)
    except NotFound as error:
        raise Http404(error.message) from error


def profile_page(request, handle: str):
    profile = _profile_or_404(handle, request.user)
    if profile.handle != handle:
        return redirect("social:profile", handle=profile.handle)
    summary = selectors.profile_summary(profile=profile, viewer=request.user)
    try:
        page = selectors.profile_bets_page(
            profile=profile, viewer=request.user, cursor=request.GET.get("cursor") or None
        )
    except ApplicationError:
        return redirect("social:profile", handle=profile.handle)
    context = {
        "profile": profile,
        "summary": summary,
        "record": summary["record"],
        "chart": selectors.profile_units_chart(profile=profile, viewer=request.user),
        "page": page,
    }
    return render(request, "social/profile.html", context)


@login_required
@require_POST
def follow_view(request, handle: str):
    try:
        _follow, created = services.follow_create(follower=request.user, handle=handle)
        if created:
            messages.success(
                request, f"You follow @{handle.lower()}: their bets appear in your feed after their delay."
            )
    except NotFound as error:
        raise Http404(error.message) from error
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("social:profile", handle=handle.lower())


@login_required
@require_POST
def unfollow_view(request, handle: str):
    try:
        services.follow_delete(follower=request.user, handle=handle)
        messages.success(request, f"You no longer follow @{handle.lower()}.")
    except ApplicationError as error:
        messages.error(request, error.message)
    target = request.POST.get("next", "")
    if target == "following":
        return redirect("social:feed")
    try:
        selectors.profile_get_for_viewer(handle=handle, viewer=request.user)
    except NotFound:
        return redirect("social:feed")
    return redirect("social:profile", handle=handle.lower())


@login_required
@require_http_methods(["GET", "POST"])
def profile_settings(request):
    profile = selectors.profile_for_user(user=request.user)
    initial = {
        "handle": profile.handle,
        "is_public": profile.is_public,
        "stake_visibility": profile.stake_visibility,
        "live_delay_sec": profile.live_delay_sec,
        "bio": profile.bio,
        "display_name": profile.display_name,
    }
    form = ProfileSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(user=request.user, **form.cleaned_data)
        except ApplicationError as error:
            field = next(iter(error.details), None) if error.details else None
            form.add_error(field if field in form.fields else None, error.message)
        else:
            messages.success(request, "Profile saved.")
            return redirect("social:settings")
    return render(request, "social/settings.html", {"form": form, "profile": profile})


@login_required
def feed_page(request):
    try:
        page = selectors.feed_for_user(user=request.user, cursor=request.GET.get("cursor") or None)
    except ApplicationError:
        return redirect("social:feed")
    handles = selectors.following_queryset(user_id=request.user.pk).values_list("handle", flat=True)[:200]
    return render(
        request,
        "social/feed.html",
        {"page": page, "following": _profile_links(handles), "is_first_page": not request.GET.get("cursor")},
    )


def _profile_links(handles) -> list[dict[str, str]]:
    """[{"handle", "url"}] for up to 200 profiles: one `reverse` for all of them, not one
    `{% url %}` each (a feed page of a bettor following 1,000 spent a fifth of its time
    reversing these; docs/performance.md). Handles are lowercase letters, digits and
    underscores (social.handles), so the upper-case placeholder never meets one and none
    needs quoting."""
    pattern = reverse("social:profile", kwargs={"handle": "HANDLE"})
    return [{"handle": handle, "url": pattern.replace("HANDLE", handle)} for handle in handles]


def leaderboards_page(request):
    window = request.GET.get("window", LeaderboardWindow.DAYS_7)
    metric = request.GET.get("metric", LeaderboardMetric.ROI)
    if window not in LeaderboardWindow.values or metric not in LeaderboardMetric.values:
        return redirect(reverse("social:leaderboards"))
    rows = selectors.leaderboard(window=window, metric=metric)
    return render(
        request,
        "social/leaderboards.html",
        {
            "rows": rows,
            "window": window,
            "metric": metric,
            "windows": LeaderboardWindow.choices,
            "metrics": LeaderboardMetric.choices,
            "metric_label": LeaderboardMetric(metric).label,
            "min_bets": settings.SOCIAL_LEADERBOARD_MIN_BETS,
            "updated_at": rows[0]["updated_at"] if rows else None,
        },
    )


PEOPLE_PAGE_SIZE = 20


def people_page(request):
    """Find people: public profiles by handle or display name, most similar first; the
    same selector and throttle as GET /api/v1/people/."""
    from social.api import PeopleSearchApi, PeopleSearchThrottle

    raw = request.GET.get("q", "")
    context: dict = {"q": raw.strip()[:200], "page": None, "error": ""}
    if raw.strip():
        throttle = PeopleSearchThrottle()
        if not throttle.allow_request(request, PeopleSearchApi):
            wait = throttle.wait()
            context["error"] = f"Too many searches; try again in {max(1, round(wait or 60))} seconds."
            return render(request, "social/people.html", context, status=429)
        try:
            results = selectors.profile_search(query=raw)
        except ApplicationError as error:
            context["error"] = error.message
            return render(request, "social/people.html", context, status=400)
        context["page"] = Paginator(results, PEOPLE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "social/people.html", context)
