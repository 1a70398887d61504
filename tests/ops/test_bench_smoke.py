"""Every benchmark at its smoke size (`BENCH_SIZE=smoke`): the same code path as `make bench`
on tiny data, as a subprocess against a database of its own, so that a benchmark can no
longer rot unnoticed (issue 19: `bench/social` inserted bets without a column added since
and `make bench` exited 1 for weeks).

Each must exit 0, print the figures it exists for, and drop its database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]
BENCHMARKS = sorted(p.parent.name for p in (BASE_DIR / "bench").glob("*/main.py"))

# The figures each benchmark exists for: a smoke run that no longer prints one of them fails.
FIGURES = {
    "betting": [
        "pgbench TPC-B-like",
        "authenticated no-op POST (the floor)",
        "bet placements over HTTP",
        "placement latency p99",
        "bets settled by one worker",
        "closing lines captured at kick-off",
        "deposit credited during that kick-off, p99",
    ],
    "chat": ["bare publish baseline p99", "chat message p99", "chat messages stored/s", "chat deliveries/s"],
    "edges": [
        "pricing: 2-way markets re-priced",
        "ingest: quote updates with edges kept current",
        "latency: ingest -> websocket client p99",
    ],
    "ledger": ["ledger transfers, many accounts (median)", "ledger transfers, one hot account (median)"],
    "social": [
        "bare GROUP BY user_id, 7d",
        "board 30d/clv (DELETE + INSERT ... RANK())",
        "GET /api/v1/me/ p99",
        "GET /api/v1/feed/ p99",
        "GET /feed/ (the page) p99",
        "GET /api/v1/feed/?cursor=... (next pages) p99",
    ],
}


def _server_url() -> str:
    """The tests' PostgreSQL server, naming its maintenance database: a benchmark makes a
    database of its own there (bench.common.bench_database) and never touches the tests'."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER'] or 'postgres'}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/postgres"


def _bench_databases(url: str) -> set[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        return {
            row[0] for row in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench_%'")
        }


def test_every_benchmark_has_a_smoke_check():
    assert sorted(FIGURES) == BENCHMARKS


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("name", BENCHMARKS)
def test_benchmark_runs_to_the_end_at_its_smoke_size(name, tmp_path):
    url = _server_url()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_SETTINGS_MODULE", "BENCH_", "SOCIAL_BENCH_", "CHAT_BENCH_"))
        and not key.startswith("LEDGER_BENCH_")
    }
    env.update(
        BENCH_SIZE="smoke",
        DATABASE_URL=url,
        REDIS_URL=settings.REDIS_URL,
        PYTHONUNBUFFERED="1",
    )
    result = subprocess.run(
        [sys.executable, str(BASE_DIR / "bench" / name / "main.py")],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    (tmp_path / f"{name}.log").write_text(output)
    assert result.returncode == 0, f"bench/{name} exited {result.returncode}:\n{output[-6000:]}"
    missing = [figure for figure in FIGURES[name] if figure not in result.stdout]
    assert not missing, f"bench/{name} did not print {missing}:\n{result.stdout[-6000:]}"
    made = [ln.split()[1] for ln in result.stdout.splitlines() if ln.strip().startswith("database bench_")]
    assert made, result.stdout[-3000:]
    assert not set(made) & _bench_databases(url), f"bench/{name} left its database behind"
