"""`Idempotency-Key` for money-moving API calls: one effect per key, the first answer replayed.

The key row is inserted in the same database transaction as the handler's effect, with
INSERT ... ON CONFLICT DO NOTHING. A concurrent copy of the request blocks on the unique
index until the first commits, then finds the stored response and replays it; if the first
rolled back (it was refused), the copy runs as if it were first. So concurrent copies give
exactly one effect, and a refused request can be retried with the same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from rest_framework.response import Response

from betthat.core.errors import ApplicationError
from wallet.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def request_fingerprint(request, *, scope: str) -> str:
    body = json.dumps(
        {"scope": scope, "method": request.method, "path": request.path, "body": request.data},
        sort_keys=True,
        cls=DjangoJSONEncoder,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def idempotent_response(request, *, scope: str, handler: Callable[[], Response]) -> Response:
    """Run `handler()` once per (user, Idempotency-Key); replay its stored response after.

    400 `idempotency_key_required` without the header; 409 `idempotency_conflict` when the
    key was used with a different request body (or another endpoint).
    """
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        raise ApplicationError(
            f"This request needs an {HEADER} header.", code="idempotency_key_required", status=400
        )
    if len(key) > MAX_KEY_LENGTH:
        raise ApplicationError(
            f"The {HEADER} is longer than {MAX_KEY_LENGTH} characters.",
            code="validation_error",
            details={HEADER: [f"At most {MAX_KEY_LENGTH} characters."]},
        )
    fingerprint = request_fingerprint(request, scope=scope)
    user_id = request.user.pk
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO wallet_idempotencykey (user_id, key, scope, fingerprint, status_code, response_body, created_at)
                VALUES (%s, %s, %s, %s, 0, '{}', now())
                ON CONFLICT (user_id, key) DO NOTHING
                RETURNING id
                """,
                [user_id, key, scope, fingerprint],
            )
            row = cursor.fetchone()
        if row is None:
            stored = IdempotencyKey.objects.get(user_id=user_id, key=key)
            if stored.fingerprint != fingerprint:
                raise ApplicationError(
                    "This Idempotency-Key was already used with a different request.",
                    code="idempotency_conflict",
                    status=409,
                    details={"scope": stored.scope},
                )
            return Response(
                stored.response_body, status=stored.status_code, headers={"Idempotent-Replayed": "true"}
            )
        response = handler()
        if response.status_code >= 400:
            # An error answer is not remembered: the key stays free for a retry.
            transaction.set_rollback(True)
            return response
        body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
        IdempotencyKey.objects.filter(pk=row[0]).update(status_code=response.status_code, response_body=body)
        return response
