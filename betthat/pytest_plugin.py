"""The test suite's entry point to the embedded servers (loaded with `-p betthat.pytest_plugin`,
see pyproject.toml).

pytest-django imports the settings while pytest loads the initial conftests; this wrapper
runs first, so with DATABASE_URL / REDIS_URL unset the controller starts the embedded
PostgreSQL and Redis (or finds them running) and exports their URLs before that. xdist
workers inherit the URLs and start nothing; the controller stops what it started when it
exits. CI and developers with a .env point the suite at their own servers instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator

import pytest

_AUDIT_ROOT_MADE = "_BETTHAT_TEST_AUDIT_ROOT_MADE"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None, None, None]:
    from betthat import embedded

    embedded.start_for_entry_point()
    # The suite's audit trail goes to a directory of its own, never into .data/audit of the
    # app beside it, and each xdist worker (with the Celery workers and servers it starts) to
    # a subdirectory of its own, as it has its own Redis prefix: a test that read a stream's
    # last line read another worker's at times.
    if "AUDIT_ROOT" not in os.environ:
        os.environ["AUDIT_ROOT"] = os.environ[_AUDIT_ROOT_MADE] = tempfile.mkdtemp(prefix="betthat-audit-")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    made = os.environ.get(_AUDIT_ROOT_MADE)
    if worker and made and os.environ["AUDIT_ROOT"] == made:
        os.environ["AUDIT_ROOT"] = os.path.join(made, worker)
    return (yield)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process that made the suite's audit directory (the controller) removes it."""
    made = os.environ.get(_AUDIT_ROOT_MADE)
    if made and not hasattr(config, "workerinput"):
        shutil.rmtree(made, ignore_errors=True)
