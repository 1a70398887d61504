"""`Idempotency-Key` for money-moving API calls: one effect per key, the first answer replayed.

The key row is inserted in the same database transaction as the handler's effect, with
INSERT ... ON CONFLICT DO NOTHING. A concurrent copy of the request blocks on the unique
index until the first commits, then finds the stored response and replays it; if the first
rolled back (it was refused), the copy runs as if it were first. So concurrent copies give
exactly one effect, and a refused request can be retried with the same key.

A handler that calls a payment provider must not run inside that transaction (its locks would
be held through the network call): `calls_provider=True` runs it with no transaction open.
Concurrent copies then wait on a PostgreSQL advisory lock of (user, key), held by the session
rather than a transaction, and the key row is written after the handler's own transactions
committed. A crash between the two leaves no key row; the retry runs the handler again, and
the wallet's services return the payment of the first attempt (unique `(user,
idempotency_key)` on payments), so there is still one effect.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from rest_framework.request import Request
from rest_framework.response import Response

from betthat.core.errors import ApplicationError
from betthat.users.http import current_user
from wallet.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
ADVISORY_NAMESPACE = 0x1DE0  # pg_advisory_lock(namespace, key): the idempotency keys' space


def request_fingerprint(request: Request, *, scope: str) -> str:
    body = json.dumps(
        {"scope": scope, "method": request.method, "path": request.path, "body": request.data},
        sort_keys=True,
        cls=DjangoJSONEncoder,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _replay(stored: IdempotencyKey, *, fingerprint: str) -> Response:
    if stored.fingerprint != fingerprint:
        raise ApplicationError(
            "This Idempotency-Key was already used with a different request.",
            code="idempotency_conflict",
            status=409,
            details={"scope": stored.scope},
        )
    return Response(stored.response_body, status=stored.status_code, headers={"Idempotent-Replayed": "true"})


def _advisory_key(user_id: int, key: str) -> tuple[int, int]:
    """Two int4 for pg_advisory_lock: this module's namespace and a hash of (user, key). A
    collision only makes two unrelated requests wait for each other."""
    digest = hashlib.sha256(f"{user_id}:{key}".encode()).digest()
    return ADVISORY_NAMESPACE, int.from_bytes(digest[:4], "big", signed=True)


def _outside_transaction(
    request: Request, *, user_id: int, key: str, scope: str, fingerprint: str, handler: Callable[[], Response]
) -> Response:
    lock = _advisory_key(user_id, key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", lock)
    try:
        stored = IdempotencyKey.objects.filter(user_id=user_id, key=key).first()
        if stored is not None:
            return _replay(stored, fingerprint=fingerprint)
        response = handler()
        if response.status_code < 400:
            try:
                with transaction.atomic():
                    IdempotencyKey.objects.create(
                        user_id=user_id,
                        key=key,
                        scope=scope,
                        fingerprint=fingerprint,
                        status_code=response.status_code,
                        response_body=json.loads(json.dumps(response.data, cls=DjangoJSONEncoder)),
                    )
            except IntegrityError:  # written meanwhile by a transactional endpoint: its answer stands
                pass
        return response
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", lock)


def idempotent_response(
    request: Request, *, scope: str, handler: Callable[[], Response], calls_provider: bool = False
) -> Response:
    """Run `handler()` once per (user, Idempotency-Key); replay its stored response after.

    400 `idempotency_key_required` without the header; 409 `idempotency_conflict` when the
    key was used with a different request body (or another endpoint). `calls_provider`: the
    handler makes a network call, so it runs outside any transaction (module docstring).
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
    user_id = current_user(request).pk
    if calls_provider:
        return _outside_transaction(
            request, user_id=user_id, key=key, scope=scope, fingerprint=fingerprint, handler=handler
        )
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
            return _replay(IdempotencyKey.objects.get(user_id=user_id, key=key), fingerprint=fingerprint)
        response = handler()
        if response.status_code >= 400:
            # An error answer is not remembered: the key stays free for a retry.
            transaction.set_rollback(True)
            return response
        body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
        IdempotencyKey.objects.filter(pk=row[0]).update(status_code=response.status_code, response_body=body)
        return response
