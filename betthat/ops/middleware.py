"""Middleware of the operations app.

- `RequestMetricsMiddleware` (first in MIDDLEWARE) times every request for Prometheus.
- `OutageMiddleware` (right after it) turns a lost database, Redis or broker connection into a
  503 in the public error shape, wherever it happened: in a view, in a middleware (the
  session or user lookup), or in a template. Django turns an exception into a 500 response
  at each middleware layer and signals it (`got_request_exception`) first; the receiver
  below notes an outage on the request, and this middleware swaps the 500 for a 503. DRF
  views have their own handler (betthat.ops.api.exception_handler).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.signals import got_request_exception
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from betthat.ops import metrics
from betthat.ops.outages import outage_body, outage_service

logger = logging.getLogger(__name__)

OUTAGE_ATTRIBUTE = "_ops_outage_service"


@receiver(got_request_exception, dispatch_uid="ops-outage")
def _note_outage(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    if request is None:
        return
    service = outage_service(sys.exc_info()[1])
    if service is not None:
        setattr(request, OUTAGE_ATTRIBUTE, service)


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return (
        request.path.startswith("/api/")
        or request.headers.get("HX-Request") == "true"
        or ("application/json" in accept and "text/html" not in accept)
    )


def outage_response(request: HttpRequest, service: str) -> HttpResponse:
    headers = {"Retry-After": str(settings.OPS_RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if _wants_json(request):
        return JsonResponse(outage_body(service), status=503, headers=headers)
    # No request context: its processors would query the service that is down.
    html = render_to_string("ops/unavailable.html", {"retry_after": settings.OPS_RETRY_AFTER_SECONDS})
    return HttpResponse(html, status=503, headers=headers)


class OutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        service = getattr(request, OUTAGE_ATTRIBUTE, None)
        if service is not None and response.status_code >= 500:
            logger.warning("%s %s: %s unavailable, answered 503", request.method, request.path, service)
            return outage_response(request, service)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        service = outage_service(exception)
        if service is None:
            return None
        logger.warning("%s %s: %s unavailable, answered 503", request.method, request.path, service)
        return outage_response(request, service)


class RequestMetricsMiddleware:
    """Request latency by method, route (the URL pattern, not the path: bounded labels) and
    status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        began = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.route or match.view_name) if match is not None else "unmatched"
        metrics.observe_request(
            method=request.method or "GET",
            route=route or "unmatched",
            status=response.status_code,
            seconds=time.perf_counter() - began,
        )
        return response
