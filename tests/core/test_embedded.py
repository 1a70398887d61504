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
