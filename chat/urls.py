"""Pages of the chat app."""

from django.contrib.auth.decorators import login_required
from django.urls import path

from betthat.core.views import empty_section

app_name = "chat"
urlpatterns = [
    path("chat/", login_required(empty_section("chat/index.html")), name="index"),
]
