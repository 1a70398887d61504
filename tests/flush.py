"""A faster reset between transactional tests, for PostgreSQL.

Django's TransactionTestCase empties the database after each test with one `TRUNCATE` of
every table (55 here), which costs PostgreSQL a new file per table and index: 1.5 s a test on
this 2-core machine, about a minute and a half of the suite. Test databases hold a few rows, so
`DELETE` is ~100x cheaper. It runs with `session_replication_role = replica` for that one
transaction, so the foreign keys (triggers) and the ledger's append-only triggers do not fire
on a reset, as they do not on `TRUNCATE`. That setting needs a superuser, which the suite's
databases have (the machine's PostgreSQL as `postgres`, the embedded one as its owner); any
other role keeps Django's `TRUNCATE`.

The content types and permissions stay: migrations created them, `post_migrate` would
otherwise recreate all of them after every reset, and no test changes them.
"""

from __future__ import annotations

from django.db.backends.postgresql.operations import DatabaseOperations

KEPT = frozenset({"django_content_type", "auth_permission"})
_truncate = DatabaseOperations.sql_flush


def _is_superuser(connection) -> bool:
    if not hasattr(connection, "_betthat_is_superuser"):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('is_superuser') = 'on'")
            connection._betthat_is_superuser = cursor.fetchone()[0]
    return connection._betthat_is_superuser


def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if reset_sequences or not _is_superuser(self.connection):
        return _truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
    deletes = [f"DELETE FROM {self.quote_name(table)};" for table in sorted(tables) if table not in KEPT]
    return ["SET LOCAL session_replication_role = replica;", *deletes] if deletes else []


def install() -> None:
    DatabaseOperations.sql_flush = sql_flush
