"""Shared fixtures: real PostgreSQL, real Redis, a real Celery worker, real Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests import flush
from tests.factories import UserFactory

flush.install()

BASE_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
HAS_CHROMIUM = Path(CHROMIUM).exists()


def pytest_report_header(config):
    if not HAS_CHROMIUM:
        return [
            "!" * 72,
            "!!  Chromium NOT FOUND: browser tests are SKIPPED (apt-get install chromium)",
            "!" * 72,
        ]
    return [f"browser: {CHROMIUM}"]


def clear_cache_prefix() -> None:
    import redis

    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.02, what: str = "the condition"):
    """Poll `predicate` until it returns something truthy (returned) or `timeout` passes (an
    AssertionError naming `what`). For conditions that nothing signals across processes: a
    worker's database writes, a browser's page. Waits for a state, never a fixed time."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def celery_tasks_finished(task_ids: list[str], queue: str) -> bool:
    """True once none of `task_ids` waits in `queue` or is delivered but unacknowledged. Our
    tasks that move money are acks_late, so acknowledged means finished. (Reads the Redis
    broker's own keys: the queue's lists per priority and the `unacked` hash, under this
    worker's key prefix.)"""
    from betthat.core import redis as bt_redis

    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    client = bt_redis.client()
    lists = [f"{prefix}{queue}", *(f"{prefix}{queue}\x06\x16{priority}" for priority in (3, 6, 9))]
    blobs = [blob for key in lists for blob in client.lrange(key, 0, -1)]
    blobs += client.hvals(f"{prefix}unacked")
    return not any(task_id.encode() in blob for task_id in task_ids for blob in blobs)


@pytest.fixture(autouse=True)
def _isolated_redis(settings):
    """Each test starts with an empty cache (this xdist worker's keys only: other workers
    share the Redis database) and fresh channel layers."""
    from channels.layers import channel_layers

    clear_cache_prefix()
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def token_client_for(db):
    """Return an APIClient authenticated with `user`'s API token."""
    from betthat.users.services import user_token_get_or_create

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {user_token_get_or_create(user=user)}")
        return client

    return make


@pytest.fixture
def user_client(user, token_client_for):
    return token_client_for(user)


def session_cookie_for(user) -> str:
    """A real session for `user`, as the browser would hold it (for websockets)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def browser_log_in(page_or_context, user, base_url: str) -> None:
    """Logs a Playwright page (or browser context) in as `user`, replacing any session."""
    context = getattr(page_or_context, "context", page_or_context)
    context.clear_cookies()
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session_cookie_for(user), "url": base_url}]
    )


@pytest.fixture
def ws_headers_for():
    def make(user=None):
        headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1")]
        if user is not None:
            cookie = session_cookie_for(user)
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
        return headers

    return make


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real Celery worker process on the test database and this worker's Redis prefix."""
    from django.db import connection

    env = dict(os.environ)
    db = connection.settings_dict
    env["DATABASE_URL"] = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env["REDIS_URL"] = settings.REDIS_URL
    env["CONN_MAX_AGE"] = "0"

    def start(queues: str = "default,odds,settlement", concurrency: int = 1, extra: list[str] | None = None):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "betthat",
                "worker",
                "-Q",
                queues,
                "--concurrency",
                str(concurrency),
                "--pool",
                "prefork",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                *(extra or []),
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            text=True,
        )
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "ready." in line:
                started.append(proc)
                return proc
            if proc.poll() is not None:
                break
        proc.kill()
        raise RuntimeError("celery worker did not start:\n" + "".join(lines))

    started: list[subprocess.Popen] = []
    yield start
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture
def browser_page(live_server, monkeypatch):
    """A Playwright page in Debian's headless Chromium, pointed at the live server."""
    if not HAS_CHROMIUM:
        pytest.skip(f"Chromium not installed at {CHROMIUM}: browser test SKIPPED")
    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls there
    # unless told otherwise. For this test only: a later test that copies the environment
    # (manage.py check --deploy) must not inherit it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
            ],
        )
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(15000)
        yield page
        context.close()
        browser.close()


@pytest.fixture
def asgi_server(live_server):
    """The real ASGI app (HTTP and websockets) on a free port, in this process: pytest's
    live_server speaks WSGI only, and the live pages need their sockets (/ws/...)."""
    import threading

    import uvicorn

    from betthat.websocket_protocol import UVICORN_WS

    server = uvicorn.Server(
        uvicorn.Config(
            "betthat.asgi:application",
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            ws=UVICORN_WS,  # as scripts/run.py serves it
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
