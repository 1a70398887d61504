"""The embedded PostgreSQL and Redis: reused across processes, stopped only by their owner."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def run(data_dir: Path, code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["BETTHAT_DATA_DIR"] = str(data_dir)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def status(data_dir: Path) -> dict:
    return json.loads(
        run(data_dir, "import json; from betthat import embedded; print(json.dumps(embedded.status()))")
    )


@pytest.mark.slow
def test_servers_are_shared_and_only_their_starter_stops_them(tmp_path):
    data_dir = tmp_path / "data"
    try:
        # A lone process starts both servers, uses them, and stops them when it exits.
        out = run(
            data_dir,
            "from betthat import embedded; import psycopg, redis\n"
            "urls = embedded.ensure_running()\n"
            "print(psycopg.connect(urls['DATABASE_URL']).execute('select 41 + 1').fetchone()[0])\n"
            "print(redis.Redis.from_url(urls['REDIS_URL']).ping())",
        )
        assert out.split() == ["42", "True"]
        assert status(data_dir)["postgres"] is None and status(data_dir)["redis"] is None

        # A long-lived starter (make run) keeps them; a process that only connects leaves them up.
        run(data_dir, "from betthat import embedded; print(embedded.start_missing()[1])")
        before = status(data_dir)
        assert before["postgres"] and before["redis"]
        run(data_dir, "from betthat import embedded; embedded.ensure_running()")
        assert status(data_dir)["postgres"] == before["postgres"]
        assert status(data_dir)["redis"] == before["redis"]

        # Data survives a restart.
        run(
            data_dir,
            "from betthat import embedded; import psycopg\n"
            "u = embedded.urls(embedded._load_state())['DATABASE_URL']\n"
            "c = psycopg.connect(u, autocommit=True); c.execute('create table kept (n int)')",
        )
        run(data_dir, "from betthat import embedded; embedded.stop()")
        assert status(data_dir)["postgres"] is None
        out = run(
            data_dir,
            "from betthat import embedded; import psycopg\n"
            "u = embedded.ensure_running()['DATABASE_URL']\n"
            'print(psycopg.connect(u).execute("select to_regclass(%s) is not null", ["kept"]).fetchone()[0])',
        )
        assert out.strip() == "True"
    finally:
        run(data_dir, "from betthat import embedded; embedded.stop()")


def run_unset(data_dir: Path, args: list[str]) -> subprocess.CompletedProcess:
    """`args` with DATABASE_URL / REDIS_URL set empty: a developer's .env cannot fill them."""
    env = dict(os.environ, DATABASE_URL="", REDIS_URL="", BETTHAT_DATA_DIR=str(data_dir))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


def test_importing_the_settings_starts_nothing(tmp_path):
    data_dir = tmp_path / "data"
    result = run_unset(data_dir, [sys.executable, "-c", "import betthat.settings"])
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "embedded servers are not running" in result.stderr
    assert not (data_dir / "postgres").exists() and not (data_dir / "redis").exists()


@pytest.mark.slow
def test_manage_py_starts_the_servers_it_needs_and_stops_them(tmp_path):
    data_dir = tmp_path / "data"
    try:
        result = run_unset(
            data_dir,
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from django.db import connection; connection.ensure_connection(); print(connection.settings_dict['PORT'])",
            ],
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.split()[-1].isdigit()
        assert status(data_dir)["postgres"] is None and status(data_dir)["redis"] is None  # stopped at exit
        # Beside running servers (make run's), settings connect to them and stop nothing.
        run(data_dir, "from betthat import embedded; embedded.start_missing()")
        running = status(data_dir)
        out = run_unset(data_dir, [sys.executable, "-c", "import betthat.settings as s; print(s.REDIS_URL)"])
        assert out.returncode == 0 and out.stdout.strip() == running["REDIS_URL"]
        assert status(data_dir)["postgres"] == running["postgres"]
    finally:
        run(data_dir, "from betthat import embedded; embedded.stop()")
