"""betthat.core.db.prepared_cursor: the statements every placement runs are bound
server-side and prepared once per connection, and still go through Django (its query log
and error translation)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from betthat.core.db import prepared_cursor

pytestmark = pytest.mark.django_db

STATEMENT = "SELECT %(a)s::bigint + 1, %(b)s::text -- prepared_cursor test"


def prepared_statements() -> list[tuple[str, int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%%prepared_cursor test%%'"
        )
        return cursor.fetchall()


def test_a_statement_is_prepared_once_and_reused():
    results = []
    for n in range(4):
        with prepared_cursor() as cursor:
            cursor.execute(STATEMENT, {"a": n, "b": f"x{n}"})
            results.append(cursor.fetchone())
    assert results == [(1, "x0"), (2, "x1"), (3, "x2"), (4, "x3")]
    [(text, generic, custom)] = prepared_statements()
    assert "$1::bigint + 1, $2::text" in text  # bound server-side, not quoted into the text
    assert generic + custom == 4


def test_django_logs_the_statement():
    with CaptureQueriesContext(connection) as captured, prepared_cursor() as cursor:
        cursor.execute(STATEMENT, {"a": 1, "b": "y"})
        cursor.execute(STATEMENT, {"a": 2, "b": "z"})
    logged = [query["sql"] for query in captured.captured_queries]
    assert logged == [STATEMENT, STATEMENT]


def test_errors_are_djangos():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE prepared_cursor_t (id int PRIMARY KEY)")
    with prepared_cursor() as cursor:
        cursor.execute("INSERT INTO prepared_cursor_t VALUES (%s)", [1])
    with pytest.raises(IntegrityError), prepared_cursor() as cursor:
        cursor.execute("INSERT INTO prepared_cursor_t VALUES (%s)", [1])
