"""Readiness checks: the database answers, Redis answers, every migration is applied."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from betthat.ops.redis_client import ops_redis

_migrations_checked: dict[str, float] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, **({"detail": self.detail} if self.detail else {})}


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".strip()[:200]


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return Check("database", False, _reason(error))
    return Check("database", True)


def check_redis() -> Check:
    try:
        ops_redis().ping()
    except Exception as error:
        return Check("redis", False, _reason(error))
    return Check("redis", True)


def check_migrations(*, fresh: bool = False) -> Check:
    """No migration left to apply. Loading the migration graph reads every migration file,
    so a positive answer is remembered for OPS_MIGRATIONS_CHECK_SECONDS per database."""
    key = str(connection.settings_dict.get("NAME"))
    now = time.monotonic()
    with _lock:
        checked = _migrations_checked.get(key)
    if not fresh and checked is not None and now - checked < settings.OPS_MIGRATIONS_CHECK_SECONDS:
        return Check("migrations", True)
    try:
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:
        return Check("migrations", False, _reason(error))
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _backwards in plan[:5])
        return Check("migrations", False, f"{len(plan)} not applied: {names}")
    with _lock:
        _migrations_checked[key] = now
    return Check("migrations", True)


def readiness(*, fresh: bool = False) -> list[Check]:
    database = check_database()
    checks = [database, check_redis()]
    checks.append(
        check_migrations(fresh=fresh) if database.ok else Check("migrations", False, "database down")
    )
    return checks
