"""The CSV exports' content negotiation, shared by every export endpoint."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView


class CsvRenderer(BaseRenderer):
    """Lets a client ask for `Accept: text/csv`: the export streams its own body."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return json.dumps(data, cls=DjangoJSONEncoder).encode() if data is not None else b""


class CsvExportApiView(APIView):
    """An export endpoint: CSV on success, and every refusal (400, 401, 405, ...) as JSON in
    the public error shape, whatever the client asked for."""

    renderer_classes = [JSONRenderer, CsvRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return response
