"""The test suite's entry point to the embedded servers (loaded with `-p betthat.pytest_plugin`,
see pyproject.toml).

pytest-django imports the settings while pytest loads the initial conftests; this wrapper
runs first, so with DATABASE_URL / REDIS_URL unset the controller starts the embedded
PostgreSQL and Redis (or finds them running) and exports their URLs before that. xdist
workers inherit the URLs and start nothing; the controller stops what it started when it
exits. CI and developers with a .env point the suite at their own servers instead.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None, None, None]:
    from betthat import embedded

    embedded.start_for_entry_point()
    return (yield)
