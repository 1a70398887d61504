"""Health, readiness, metrics and the staff dashboard.

/healthz  the process answers (no database, no Redis): for liveness probes.
/readyz   the database, Redis and migrations: for load balancers and readiness probes;
          503 in the error shape while any is not ready. Which check failed, and why, only
          to /metrics' scrapers (and the log).
/metrics  Prometheus text format; open with DEBUG, else from METRICS_ALLOWED_IPS or with
          `Authorization: Bearer <METRICS_BEARER_TOKEN>`.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from betthat.core.client_ip import client_ip
from betthat.core.errors import error_body
from betthat.ops import charts, health, metrics, selectors

DASHBOARD_PERMISSION = "ops.view_dashboard"

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready or not, for anyone (a load balancer needs no more). Which check failed and its
    error (a database error names hosts, users and databases) go to the log, and in the body
    only to those who may scrape /metrics (the bearer token or an allowed address). Not to a
    staff session: reading the session needs the database this endpoint may be reporting down."""
    checks = health.readiness()
    report = {check.name: check.as_dict() for check in checks}
    failing = [check.name for check in checks if not check.ok]
    is_operator = _metrics_allowed(request)
    if failing:
        logger.warning("readyz: not ready: %s", {name: report[name] for name in failing})
        if is_operator:
            body = error_body("service_unavailable", f"Not ready: {', '.join(failing)}.", {"checks": report})
        else:
            body = error_body("service_unavailable", "Not ready.")
        return JsonResponse(body, status=503, headers={"Retry-After": str(settings.OPS_RETRY_AFTER_SECONDS)})
    if is_operator:
        return JsonResponse({"status": "ready", "checks": report})
    return JsonResponse({"status": "ready"})


def _metrics_allowed(request: HttpRequest) -> bool:
    if settings.DEBUG:
        return True
    token = settings.METRICS_BEARER_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    # The same client address as the rate limits: the socket's, or the one our trusted proxy
    # vouches for (betthat.core.client_ip); a header the client writes itself never counts.
    return client_ip(request) in settings.METRICS_ALLOWED_IPS


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _metrics_allowed(request):
        return JsonResponse(
            error_body("permission_denied", "Metrics are open to the configured scrapers only."),
            status=403,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


# --- the staff dashboard ----------------------------------------------------------------------


def _require_dashboard_permission(request: HttpRequest) -> None:
    if not request.user.has_perm(DASHBOARD_PERMISSION):
        raise PermissionDenied("You need the permission to view the operations dashboard.")


def _dashboard_context(request: HttpRequest) -> dict[str, Any]:
    snapshot = selectors.dashboard_snapshot_cached()
    return {
        **snapshot,
        "refresh_seconds": settings.OPS_DASHBOARD_REFRESH_SECONDS,
        "charts": _charts(snapshot),
    }


def _charts(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Server-side SVG geometry for the panels that read better as a picture."""
    from wallet.money import format_minor

    def signed(value: int) -> str:
        return format_minor(value, signed=True)

    out: dict[str, Any] = {}
    if snapshot["users"]["ok"]:
        out["signups"] = charts.bar_chart(snapshot["users"]["data"]["signups"], label=lambda n: f"{n:,}")
    if snapshot["book"]["ok"]:
        first = snapshot["book"]["data"]["currencies"][0]
        out["currency"] = first["currency"]
        out["profit"] = charts.bar_chart(first["daily_profit"], label=signed)
        out["handle"] = charts.bar_chart(first["daily_handle"], label=format_minor)
    return out


@never_cache
def dashboard(request: HttpRequest) -> TemplateResponse:
    _require_dashboard_permission(request)
    context = {
        **admin.site.each_context(request),
        "title": "Operations dashboard",
        **_dashboard_context(request),
    }
    return TemplateResponse(request, "admin/ops/dashboard.html", context)


@never_cache
@require_GET
def dashboard_panels(request: HttpRequest) -> TemplateResponse:
    """The dashboard's panels alone: what the page fetches every OPS_DASHBOARD_REFRESH_SECONDS."""
    _require_dashboard_permission(request)
    return TemplateResponse(request, "admin/ops/_panels.html", _dashboard_context(request))
