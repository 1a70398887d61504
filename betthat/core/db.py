"""Cursors for the hot paths: server-side binding for arrays of a thousand elements, and
prepared statements for the statements every bet runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import psycopg
from django.db import transaction

# psycopg prepares a statement after this many executions; Django turns that off (None), and
# the cursors here turn it back on only for statements executed with prepare=True.
PREPARE_ONLY_WHEN_ASKED = 2**31 - 1


@contextmanager
def binding_cursor() -> Iterator[psycopg.Cursor[Any]]:
    """A cursor that binds parameters server-side (Django's binds them into the SQL text on
    the client, which for arrays of a thousand elements costs more than the statement), with
    Django's error translation (IntegrityError etc.), in the current transaction."""
    connection, raw = _connection()
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        yield cursor


def _connection() -> tuple[Any, psycopg.Connection[Any]]:
    """The current Django connection, open, and its psycopg connection, set to prepare the
    statements asked to be prepared."""
    connection = transaction.get_connection()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's automatic preparation off (for transaction poolers); only the
        # statements executed with prepare=True are prepared (once per connection).
        raw.prepare_threshold = PREPARE_ONLY_WHEN_ASKED
    return connection, raw


class _StatementText:
    """What Django's query log reads of the last statement (`cursor._query.query`)."""

    __slots__ = ("params", "query")

    def __init__(self, query: bytes, params: Any) -> None:
        self.query = query
        self.params = params


class _PreparingCursor(psycopg.Cursor[Any]):
    """Binds server-side and prepares every statement it executes (once per connection)."""

    def execute(  # type: ignore[override]
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> Any:
        result = super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)
        if self._query is None:  # psycopg keeps no text of a prepared statement's execution
            self._query = _StatementText(str(query).encode(), params)  # type: ignore[assignment]
        return result


@contextmanager
def prepared_cursor() -> Iterator[Any]:
    """Django's cursor (its error translation, execute wrappers and query log) over a psycopg
    cursor that binds parameters server-side and prepares each statement on the connection's
    first use of it. For the few statements every placement runs: Django's own cursor sends
    each as SQL text with the values quoted in, which PostgreSQL parses and plans every time
    (the slip's outcomes join: 0.85 ms of the backend's CPU a bet, most of it planning).
    Use it for a fixed statement text only: each distinct text is prepared and kept for the
    connection's life."""
    connection, raw = _connection()
    # _prepare_cursor: what connection.cursor() does with a new cursor (thread check, debug
    # or plain wrapper), given ours
    with connection._prepare_cursor(_PreparingCursor(raw)) as cursor:  # type: ignore[attr-defined]
        yield cursor


def single_statement_transaction() -> AbstractContextManager[Any]:
    """The transaction around a service's single statement: a savepoint inside the caller's
    transaction; in autocommit the statement is its own transaction (all or nothing), which
    saves the BEGIN and COMMIT round trips of `atomic()`."""
    return transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
