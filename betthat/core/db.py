"""Raw cursors for the hot paths that send arrays of a thousand elements."""

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
    connection = transaction.get_connection()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's automatic preparation off (for transaction poolers); only the
        # statements executed here with prepare=True are prepared (once per connection).
        raw.prepare_threshold = PREPARE_ONLY_WHEN_ASKED
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
        yield cursor


def single_statement_transaction() -> AbstractContextManager[Any]:
    """The transaction around a service's single statement: a savepoint inside the caller's
    transaction; in autocommit the statement is its own transaction (all or nothing), which
    saves the BEGIN and COMMIT round trips of `atomic()`."""
    return transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
