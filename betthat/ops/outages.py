"""Which exceptions mean "a backing service is down" (answer 503, try again), not "a bug"
(answer 500): lost or refused connections to PostgreSQL, Redis or the Celery broker.

A query that fails for a reason of its own (a constraint, a serialization failure, a
syntax error) is not an outage and keeps its usual handling.
"""

from __future__ import annotations

from typing import Any

import psycopg
from django.db import InterfaceError as DjangoInterfaceError
from django.db import OperationalError as DjangoOperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from betthat.core.errors import error_body

# SQLSTATE classes and codes that mean the server cannot serve us right now: 08 connection
# exception, 57P01-57P05 admin/crash shutdown or "cannot connect now", 53300 too many
# connections.
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "57P")
_UNAVAILABLE_SQLSTATES = {"53300"}

OUTAGE_CODE = "service_unavailable"
OUTAGE_MESSAGE = "The service is briefly unavailable. Nothing was changed; please try again shortly."


def _database_unavailable(error: BaseException) -> bool:
    if isinstance(error, DjangoInterfaceError):
        return True  # "connection already closed": the server went away under us
    cause = error.__cause__ or error.__context__
    if not isinstance(cause, psycopg.Error):
        return True  # Django raised it itself about the connection
    if isinstance(cause, psycopg.InterfaceError):
        return True
    state = cause.sqlstate
    if state is None:  # psycopg's own: refused, reset, closed unexpectedly
        return True
    return state.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES) or state in _UNAVAILABLE_SQLSTATES


def outage_service(error: BaseException | None) -> str | None:
    """ "database", "redis" or "broker" when `error` means that service is unreachable."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, DjangoOperationalError | DjangoInterfaceError):
            return "database" if _database_unavailable(error) else None
        if isinstance(error, RedisConnectionError | RedisTimeoutError):
            return "redis"
        if isinstance(error, BrokerOperationalError):
            return "broker"
        error = error.__cause__ or error.__context__
        seen += 1
    return None


def outage_body(service: str) -> dict[str, Any]:
    return error_body(OUTAGE_CODE, OUTAGE_MESSAGE, {"service": service})
