"""Pages of the social app."""

from django.contrib.auth.decorators import login_required
from django.urls import path

from betthat.core.views import empty_section

app_name = "social"
urlpatterns = [
    path("leaderboards/", login_required(empty_section("social/leaderboards.html")), name="leaderboards"),
]
