"""Pages of the wallet app."""

from django.contrib.auth.decorators import login_required
from django.urls import path

from betthat.core.views import empty_section

app_name = "wallet"
urlpatterns = [
    path("wallet/", login_required(empty_section("wallet/index.html")), name="index"),
]
