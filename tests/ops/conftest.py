from __future__ import annotations

import contextlib

import pytest
from django.db import connection

from tests.ops.factories import OwnRedis, free_port


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own, to stop and restart (never the shared one)."""
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.close()


@contextlib.contextmanager
def database_unreachable():
    """Point this thread's default connection at a port nothing listens on (a real refused
    connection), and back. Needs a transactional test: it closes the connection."""
    original = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = free_port()
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original
