"""Pages of the wallet app."""

from django.conf import settings
from django.urls import path

from wallet import views

app_name = "wallet"
urlpatterns = [
    path("wallet/", views.index, name="index"),
    path("wallet/live/", views.live, name="live"),
    path("wallet/history/", views.history, name="history"),
    path("wallet/deposit/", views.deposit, name="deposit"),
    path("wallet/withdraw/", views.withdraw, name="withdraw"),
    path("wallet/limits/", views.limits, name="limits"),
    path("wallet/export/", views.export, name="export"),
]
if settings.PAYMENTS_PROVIDER == "sandbox":  # the sandbox exists only where it is chosen
    urlpatterns.append(
        path("wallet/sandbox/checkout/<int:payment_id>/", views.sandbox_checkout, name="sandbox-checkout")
    )
