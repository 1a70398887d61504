"""Shared pieces of the benchmarks: a database of their own, a pgbench baseline on the same
PostgreSQL in the same run, and one way to print figures.

Every benchmark runs inside `bench_database(name)`: a fresh database on the same server,
created and migrated at the start and dropped at the end (even after a failure), with its
own Redis key prefix, so `make bench` never writes a row into the database (or a task into
the queues) that `make run` uses.

Every benchmark prints its own figures beside pgbench's built-in TPC-B-like script
(a bank transfer: three updates, a select, an insert), measured moments before on the
same server, so the ratio means something on any machine.

Sizes: every benchmark reads its sizes through `size(env_name, full, smoke)`. With
`BENCH_SIZE=smoke` each takes its smoke size (tiny data, a second of load, pgbench for a
second at scale 1 in a database of its own), so the whole code path runs in seconds:
`tests/test_bench_smoke.py` runs every bench/*/main.py that way inside `make test`, so a
benchmark can no longer rot unnoticed. A size set in the environment wins over both.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
# Its own name per session (BENCH_PGBENCH_DB) when several benchmarks share the server: a
# concurrent `pgbench -i` on the same database drops the tables under a running pgbench.
PGBENCH_DB = os.environ.get("BENCH_PGBENCH_DB", "bench_pgbench")
SIZE = os.environ.get("BENCH_SIZE", "full")
if SIZE not in ("full", "smoke"):
    raise SystemExit(f"BENCH_SIZE must be 'full' or 'smoke', not {SIZE!r}")
SMOKE = SIZE == "smoke"


def size(name: str, full: str, smoke: str) -> str:
    """The environment's `name` if set, else the full or the smoke size (BENCH_SIZE)."""
    return os.environ.get(name) or (smoke if SMOKE else full)


def setup_django() -> None:
    """Configure Django for a benchmark process (embedded servers when URLs are unset)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "betthat.settings")
    os.environ.setdefault("DEBUG", "false")
    # With DEBUG=false the settings refuse the development key: one random key per run
    # (inherited by the servers a benchmark starts).
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(60))
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    # The benchmarks fund their bettors through the sandbox provider, which a DEBUG=false site
    # refuses unless allowed, with a webhook secret of its own (wallet.E001/E002).
    os.environ.setdefault("SANDBOX_ALLOWED_WITHOUT_DEBUG", "true")
    os.environ.setdefault("SANDBOX_WEBHOOK_SECRET", secrets.token_urlsafe(32))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from betthat import embedded

    return embedded.ensure_running()["DATABASE_URL"]


def _with_database(url: str, dbname: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(path=f"/{dbname}").geturl()


def _drop_database(admin_url: str, dbname: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        # FORCE ends the connections a killed server or worker may have left behind.
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def database_exists(dbname: str) -> bool:
    import psycopg

    with psycopg.connect(_with_database(database_url(), "postgres"), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone() is not None


@contextlib.contextmanager
def bench_database(name: str, *, migrate: bool = True) -> Iterator[str]:
    """Run a benchmark in a database of its own: `bench_<name>_<pid>` on the same server,
    created (and migrated) on entry, dropped on exit. DATABASE_URL (and REDIS_KEY_PREFIX)
    point at it for this process and every server or worker it starts, so the benchmark's
    users, games and bets never reach the application's database and its Celery tasks
    never reach the application's workers."""
    import psycopg
    from psycopg import sql

    base = database_url()
    dbname = f"bench_{name}_{os.getpid()}"
    admin = _with_database(base, "postgres")
    _drop_database(admin, dbname)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    url = _with_database(base, dbname)
    previous = {key: os.environ.get(key) for key in ("DATABASE_URL", "REDIS_KEY_PREFIX")}
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_KEY_PREFIX"] = f"{dbname}:"
    print(f"  database {dbname} created for this benchmark", flush=True)
    try:
        if migrate:
            setup_django()
            from django.core.management import call_command

            call_command("migrate", verbosity=0, interactive=False)
        yield url
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        _drop_database(admin, dbname)
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        print(f"  database {dbname} dropped", flush=True)


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
    """TPC-B-like transactions per second on the same server (its own database). At the smoke
    size: one second at scale 1, in a database of this process's own, dropped afterwards (a
    smoke run may meet a full run, or another smoke run, on the same server)."""
    import psycopg

    url = url or database_url()
    dbname = f"{PGBENCH_DB}_smoke_{os.getpid()}" if SMOKE else PGBENCH_DB
    if SMOKE:
        seconds, scale = 1, 1
    admin = _with_database(url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", [dbname]).fetchone():
            conn.execute(f'CREATE DATABASE "{dbname}"')
    args, env = _conn_args(url, dbname)
    try:
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
    finally:
        if SMOKE:
            _drop_database(admin, dbname)
    match = re.search(r"tps = ([0-9.]+)", result.stdout)
    if not match:
        raise RuntimeError("pgbench printed no tps:\n" + result.stdout + result.stderr)
    return float(match.group(1))


DEBIAN_POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
PRIVATE_PG_USER = "pgserver"  # PostgreSQL refuses to run as root; betthat.embedded makes this user


@contextlib.contextmanager
def private_postgres(*, preload: str) -> Iterator[str]:
    """A PostgreSQL server of this process's own that preloads `preload` (e.g.
    pg_stat_statements), from Debian's postgresql-15 binaries: the embedded server (pgserver's
    build) ships no contrib module, and the shared server cannot be restarted under the
    others' feet. A temporary cluster on a free loopback port (fsync on, as the embedded one),
    stopped and removed on exit; yields its URL (database `postgres`)."""
    import shutil
    import tempfile

    initdb = DEBIAN_POSTGRES_BIN / "initdb"
    if not initdb.exists() or not (DEBIAN_POSTGRES_BIN.parent / "lib" / f"{preload}.so").exists():
        raise SystemExit(
            f"{preload} needs PostgreSQL's contrib modules: apt-get install postgresql-15 "
            f"(the embedded pgserver build has none)"
        )
    data = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        from pgserver.utils import ensure_user_exists

        ensure_user_exists(PRIVATE_PG_USER)
        shutil.chown(data, PRIVATE_PG_USER, PRIVATE_PG_USER)
        as_user = ["runuser", "-u", PRIVATE_PG_USER, "--"]
    port = free_port()
    pg_ctl = str(DEBIAN_POSTGRES_BIN / "pg_ctl")
    subprocess.run(
        [*as_user, str(initdb), "-D", str(data / "db"), "--auth=trust", "-U", "postgres", "--encoding=utf8"],
        check=True,
        capture_output=True,
    )
    options = (
        f"-h 127.0.0.1 -p {port} -k {data} -c shared_preload_libraries={preload} -c max_connections=100"
        " -c pg_stat_statements.track=all -c pg_stat_statements.track_planning=on"
        " -c track_functions=all -c track_wal_io_timing=on -c fsync=on"
    )
    subprocess.run(
        [
            *as_user,
            pg_ctl,
            "-D",
            str(data / "db"),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "-l",
            str(data / "log"),
            "start",
        ],
        check=True,
        capture_output=True,
    )
    print(f"  private PostgreSQL (Debian's, preloading {preload}) on port {port}", flush=True)
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data / "db"), "-m", "fast", "-w", "stop"], capture_output=True
        )
        shutil.rmtree(data, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_uvicorn(
    env: dict[str, str], *, workers: int = 1, extra_args: Sequence[str] = (), timeout: float = 60
) -> tuple[subprocess.Popen, int]:
    """The project's ASGI app under uvicorn on a free port, in a process group of its own,
    returned once it answers HTTP; stop it with `stop_group`."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "betthat.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--no-access-log", "--log-level", "warning",
         *extra_args],
        cwd=BASE_DIR,
        env=env,
        start_new_session=True,
    )  # fmt: skip
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return proc, port
        except httpx.HTTPError:
            time.sleep(0.2)
    stop_group(proc)
    raise RuntimeError("uvicorn did not start")


def stop_group(proc: subprocess.Popen, *, timeout: float = 20) -> None:
    """SIGTERM to the process group `proc` leads (started with a session of its own), then
    SIGKILL if it has not ended within `timeout`."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


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


def cpu_reference(seconds: float = 2.0) -> float:
    """The machine's single-core Python speed, in thousands of rounds a second of a fixed mix
    of what the server does (a JSON round trip, a sort, Decimal arithmetic, a SHA-256). pgbench
    (TPC-B, a commit per transaction) is bound by the WAL flush and hardly moves with the CPU,
    while the product's figures are mostly Python: printed at the start and end of `make bench`
    so runs on different days (or hosts) can be told apart by their CPU."""
    import hashlib
    import json
    from decimal import Decimal

    payload = {"odds": [1.91, 2.05, 3.4], "stake": "25.00", "legs": list(range(20)), "text": "x" * 200}
    rounds = 0
    deadline = time.perf_counter() + seconds
    began = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(50):
            json.loads(json.dumps(payload))
            sorted(range(200, 0, -1))
            (Decimal("25.00") * Decimal("1.9090909") / Decimal(3)).quantize(Decimal("0.01"))
            hashlib.sha256(b"bet-that" * 64).digest()
        rounds += 50
    return rounds / (time.perf_counter() - began) / 1000


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self.start


__all__ = [
    "SMOKE",
    "Timer",
    "bench_database",
    "cpu_reference",
    "database_exists",
    "database_url",
    "line",
    "percentile",
    "pgbench_tps",
    "setup_django",
    "size",
    "statistics",
]
