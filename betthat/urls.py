from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from betthat.core import views as core_views
from betthat.core.api import api_not_found
from betthat.ops import views as ops_views
from betthat.users.api import (
    KycApi,
    KycWebhookApi,
    MeApi,
    MeTimeZoneDetectedApi,
    TokenApi,
    TokenDetailApi,
    TokenListApi,
)
from edges.views import board

admin.site.site_header = "Bet-That staff console"
admin.site.site_title = "Bet-That admin"
admin.site.index_title = "Operations"

api_v1: list[URLPattern | URLResolver] = [
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
    path("auth/tokens/", TokenListApi.as_view(), name="auth-tokens"),
    path("auth/tokens/<int:token_id>/", TokenDetailApi.as_view(), name="auth-token-detail"),
    path("me/", MeApi.as_view(), name="me"),
    path("kyc/", KycApi.as_view(), name="kyc"),
    path("kyc/webhooks/<str:provider>/", KycWebhookApi.as_view(), name="kyc-webhook"),
    path("me/timezone/detected/", MeTimeZoneDetectedApi.as_view(), name="me-timezone-detected"),
    path("", include("wallet.api_urls")),
    path("", include("edges.api_urls")),
    path("", include("betting.api_urls")),
    path("", include("social.api_urls")),
    path("", include("chat.api_urls")),
]
if settings.BENCH_NOOP_API:  # the benchmark's floor (bench/betting), never on otherwise
    from betthat.core.bench_api import NoopPostApi

    api_v1.append(path("bench/noop/", NoopPostApi.as_view(), name="bench-noop"))

urlpatterns = [
    path("", core_views.landing_or(board), name="home"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("metrics", ops_views.metrics_view, name="metrics"),
    path("admin/ops/dashboard/", include("betthat.ops.urls")),
    path("glossary/", core_views.glossary, name="glossary"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("betthat.users.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI under the site's CSP: its init script is a file of its own (the split view),
    # and its React styles and inline SVG icons need these two relaxations, on this page only.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"], "img-src": ["data:"]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    re_path(r"^api/", api_not_found),
    path("", include("wallet.urls")),
    path("", include("edges.urls")),
    path("", include("betting.urls")),
    path("", include("social.urls")),
    path("", include("chat.urls")),
]

# Paths under /api/ answer errors in the public error shape, pages with Django's pages.
handler400 = "betthat.core.views.bad_request"
handler403 = "betthat.core.views.permission_denied"
handler404 = "betthat.core.views.page_not_found"
handler500 = "betthat.core.views.server_error"
