"""The framework's floor for `bench/betting`: an authenticated no-op `POST`.

It goes through everything a placement goes through before the betting code runs (the same
ASGI server and thread pool, token authentication, the active-user permission, the throttles,
the bounded JSON parser) and touches the database once, then answers. Placement figures are
printed beside its rate, so "how far from the floor" is measured, not guessed.

Mounted at `/api/v1/bench/noop/` only when settings.BENCH_NOOP_API is on (the benchmark's
server sets it); it is not part of the public API.
"""

from __future__ import annotations

from django.db import connection
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class NoopPostApi(APIView):
    schema = None  # not in the public API's schema

    def post(self, request: Request) -> Response:
        body = request.data  # parse the JSON as a placement would
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::bigint", [request.user.pk])
            (user_id,) = cursor.fetchone()
        return Response(
            {"ok": True, "user_id": user_id, "fields": len(body) if hasattr(body, "__len__") else 0}
        )
