from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from betthat.core import views as core_views
from betthat.core.api import api_not_found
from betthat.users.api import MeApi, TokenCreateApi

admin.site.site_header = "Bet-That staff console"
admin.site.site_title = "Bet-That admin"
admin.site.index_title = "Operations"

api_v1 = [
    path("auth/token/", TokenCreateApi.as_view(), name="auth-token"),
    path("me/", MeApi.as_view(), name="me"),
    path("", include("wallet.api_urls")),
    path("", include("edges.api_urls")),
    path("", include("betting.api_urls")),
    path("", include("social.api_urls")),
    path("", include("chat.api_urls")),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
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
