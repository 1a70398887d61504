"""Pages of the betting app."""

from django.contrib.auth.decorators import login_required
from django.urls import path

from betthat.core.views import empty_section

app_name = "betting"
urlpatterns = [
    path("bets/", login_required(empty_section("betting/my_bets.html")), name="index"),
]
