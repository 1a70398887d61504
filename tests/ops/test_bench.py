"""Benchmarks run in a database of their own, created on entry and dropped on exit."""

from __future__ import annotations

import os

import psycopg
import pytest
from django.db import connection

from bench.common import bench_database, database_exists


@pytest.fixture
def server_url(monkeypatch):
    db = connection.settings_dict
    url = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("REDIS_KEY_PREFIX", "before")
    return url


@pytest.mark.django_db
def test_a_benchmark_gets_a_database_of_its_own_and_leaves_none(server_url):
    with bench_database("unit", migrate=False) as url:
        name = url.rsplit("/", 1)[1]
        assert name == f"bench_unit_{os.getpid()}"
        assert os.environ["DATABASE_URL"] == url != server_url
        assert os.environ["REDIS_KEY_PREFIX"] == f"{name}:"
        assert database_exists(name)
        # a connection left open (a killed server's, say) does not stop the drop
        lingering = psycopg.connect(url, autocommit=True)
        lingering.execute("CREATE TABLE marker (id int)")
        with pytest.raises(RuntimeError), bench_database("unit-inner", migrate=False):
            raise RuntimeError("a benchmark that fails half-way")
        assert os.environ["DATABASE_URL"] == url
    assert not database_exists(name)
    lingering.close()
    assert not database_exists(f"bench_unit-inner_{os.getpid()}")
    assert os.environ["DATABASE_URL"] == server_url
    assert os.environ["REDIS_KEY_PREFIX"] == "before"
