from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.module_loading import import_string


def home(request):
    """Anonymous visitors see what Bet-That is; bettors land on the edges board."""
    if request.user.is_authenticated:
        return import_string("edges.views.board")(request)
    return render(request, "core/landing.html")


def healthz(request):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


def empty_section(template: str):
    def view(request):
        return render(request, template, {"debug": settings.DEBUG})

    return view


def glossary(request):
    """The words of the trade, in a sentence each; linked from help text across the site."""
    return render(request, "core/glossary.html")
