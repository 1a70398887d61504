"""API request parsers that honour Django's upload limit.

DRF reads the request stream itself, so `DATA_UPLOAD_MAX_MEMORY_SIZE` (which Django applies to
`request.body` and `request.POST`) was never applied to JSON: a client could send any size.
These parsers read at most the limit plus one byte and answer 413 `payload_too_large` beyond it.
(This module is imported by DRF's settings, so it must not import rest_framework.views.)
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def max_body_bytes() -> int | None:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _refuse_declared_excess(parser_context: dict | None, limit: int) -> None:
    """A request whose Content-Length already says it is too big is refused before reading."""
    request = (parser_context or {}).get("request")
    if request is None:
        return
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ParseError("Content-Length is not a number.") from None
    if declared > limit:
        raise PayloadTooLarge()


def read_bounded(stream: Any, parser_context: dict | None) -> bytes:
    """The whole body, or PayloadTooLarge as soon as it is over the limit."""
    limit = max_body_bytes()
    if stream is None:
        return b""
    if limit is None:
        return stream.read()
    _refuse_declared_excess(parser_context, limit)
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge()
    return body


class BoundedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = read_bounded(stream, parser_context)
        return super().parse(io.BytesIO(body), media_type, parser_context)


class BoundedFormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = read_bounded(stream, parser_context)
        return super().parse(io.BytesIO(body), media_type, parser_context)


class BoundedMultiPartParser(parsers.MultiPartParser):
    """Django's multipart parser counts field bytes against the limit itself (files go to
    FILE_UPLOAD_MAX_MEMORY_SIZE / disk); the declared length is checked first."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_body_bytes()
        if limit is not None:
            _refuse_declared_excess(parser_context, limit)
        return super().parse(stream, media_type, parser_context)
