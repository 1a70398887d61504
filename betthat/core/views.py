from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import csrf, defaults

from betthat.core.errors import error_body

View = Callable[..., HttpResponse]


def landing_or(members_view: View) -> View:
    """The site's front page: anonymous visitors see what Bet-That is, signed-in bettors get
    `members_view` (the project's URLs pass the edges board; core knows no domain app)."""

    def home(request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            return members_view(request)
        return render(request, "core/landing.html")

    return home


# --- Error handlers: paths under /api/ always answer in the public error shape ---------------


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def csrf_failure(request, reason: str = ""):
    """CSRF refusals (settings.CSRF_FAILURE_VIEW): JSON under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse(
            error_body(
                "csrf_failed",
                "CSRF verification failed: send the X-CSRFToken header with session "
                "authentication, or authenticate with a token.",
            ),
            status=403,
        )
    return csrf.csrf_failure(request, reason=reason)


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("bad_request", "The request is not valid."), status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("permission_denied", "You may not do this."), status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("not_found", f"No API endpoint at {request.path}."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(error_body("server_error", "An unexpected error occurred."), status=500)
    return defaults.server_error(request)


def glossary(request):
    """The words of the trade, in a sentence each; linked from help text across the site."""
    return render(request, "core/glossary.html")
