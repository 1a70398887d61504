"""The API's exception handler: outages answer 503 in the error shape, everything else goes
to the project's handler (betthat.core.api.exception_handler) unchanged."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from rest_framework.response import Response
from rest_framework.views import set_rollback

from betthat.core.api import exception_handler as core_exception_handler
from betthat.ops.outages import outage_body, outage_service

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    service = outage_service(exc)
    if service is not None:
        logger.warning("API request failed: %s unavailable (%s)", service, exc)
        try:
            set_rollback()
        except Exception:  # the connection that failed cannot even be marked
            logger.debug("could not mark the transaction for rollback", exc_info=True)
        return Response(
            outage_body(service), status=503, headers={"Retry-After": str(settings.OPS_RETRY_AFTER_SECONDS)}
        )
    return core_exception_handler(exc, context)
