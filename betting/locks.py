"""The betting app's locks beyond the wallet's: named advisory locks that keep a periodic
job from running twice at once.

PostgreSQL session advisory locks: taken with `pg_try_advisory_lock` (a second holder is
told at once, it never waits), released at the end or when the holder's connection dies
(a SIGKILLed worker frees them), and they lock no row.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

LOCK_NAMESPACE = 0x0BE7  # the betting app's keys: (namespace, crc32 of a name)


def lock_key(name: str) -> tuple[int, int]:
    return LOCK_NAMESPACE, zlib.crc32(name.encode()) - 2**31  # PostgreSQL's int4 range


@contextmanager
def exclusive(name: str) -> Iterator[bool]:
    """Try to take a session advisory lock named `name`; yields whether it was taken (a
    second holder gets False at once, never waits) and releases it at the end."""
    namespace, key = lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])
