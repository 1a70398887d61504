"""Shared pieces of the benchmarks: the database URL, a pgbench baseline on the same
PostgreSQL in the same run, and one way to print figures.

Every benchmark prints its own figures beside pgbench's built-in TPC-B-like script
(a bank transfer: three updates, a select, an insert), measured moments before on the
same server, so the ratio means something on any machine.
"""

from __future__ import annotations

import os
import re
import secrets
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
PGBENCH_DB = "bench_pgbench"


def setup_django() -> None:
    """Configure Django for a benchmark process (embedded servers when URLs are unset)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "betthat.settings")
    os.environ.setdefault("DEBUG", "false")
    # With DEBUG=false the settings refuse the development key: one random key per run
    # (inherited by the servers a benchmark starts).
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(60))
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from betthat import embedded

    return embedded.ensure_running()["DATABASE_URL"]


def pgbench_binary() -> str:
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # pgserver's platformdirs
    import pgserver._commands as pg

    return str(pg.POSTGRES_BIN_PATH / "pgbench")


def _conn_args(url: str, dbname: str) -> tuple[list[str], dict]:
    parsed = urlparse(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    args = [
        "-h",
        parsed.hostname or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        dbname,
    ]
    return args, env


def pgbench_tps(*, clients: int = 4, seconds: int = 10, scale: int = 10, url: str | None = None) -> float:
    """TPC-B-like transactions per second on the same server (its own database)."""
    import psycopg

    url = url or database_url()
    parsed = urlparse(url)
    admin = url.replace(parsed.path, "/postgres", 1) if parsed.path else url + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", [PGBENCH_DB]).fetchone():
            conn.execute(f'CREATE DATABASE "{PGBENCH_DB}"')
    args, env = _conn_args(url, PGBENCH_DB)
    subprocess.run(
        [pgbench_binary(), "-i", "-q", "-s", str(scale), *args], check=True, env=env, capture_output=True
    )
    result = subprocess.run(
        [pgbench_binary(), "-n", "-c", str(clients), "-j", str(clients), "-T", str(seconds), *args],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    match = re.search(r"tps = ([0-9.]+)", result.stdout)
    if not match:
        raise RuntimeError("pgbench printed no tps:\n" + result.stdout + result.stderr)
    return float(match.group(1))


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def line(
    name: str,
    value: float,
    unit: str,
    *,
    baseline: float | None = None,
    target: str | None = None,
    ok: bool | None = None,
) -> str:
    text = f"  {name:<52} {value:>12,.1f} {unit:<10}"
    if baseline:
        text += f"  ({value / baseline:6.1%} of pgbench {baseline:,.0f} tps)"
    if target:
        mark = "" if ok is None else ("  PASS" if ok else "  MISS")
        text += f"  target {target}{mark}"
    print(text, flush=True)
    return text


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self.start


__all__ = ["Timer", "database_url", "line", "percentile", "pgbench_tps", "setup_django", "statistics"]
