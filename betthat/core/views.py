from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

View = Callable[..., HttpResponse]


def landing_or(members_view: View) -> View:
    """The site's front page: anonymous visitors see what Bet-That is, signed-in bettors get
    `members_view` (the project's URLs pass the edges board; core knows no domain app)."""

    def home(request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            return members_view(request)
        return render(request, "core/landing.html")

    return home


def healthz(request):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def empty_section(template: str):
    def view(request):
        return render(request, template, {"debug": settings.DEBUG})

    return view
