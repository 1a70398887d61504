"""The servers and processes a chaos run starts (ours only): the embedded PostgreSQL and
Redis, restartable on their ports; the web process, the Celery worker and beat, each in its
own process group."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from chaoslib.config import BASE_DIR, DATA_DIR, WEB_PORT


class Servers:
    """The embedded PostgreSQL and Redis in our own data folder, restartable on their ports."""

    def __init__(self) -> None:
        from betthat import embedded

        self.embedded = embedded
        if DATA_DIR.exists():
            embedded.stop()  # a previous, interrupted chaos run in the same folder
            shutil.rmtree(DATA_DIR)
        urls, self.started = embedded.start_missing()
        self.urls = urls
        state = embedded._load_state()
        self.pg_port, self.redis_port = state["pg_port"], state["redis_port"]

    def restart_redis(self, down_seconds: float, during=None) -> None:
        with self.embedded._locked():
            self.embedded._stop_redis()
        if during:
            during()
        time.sleep(down_seconds)
        with self.embedded._locked():
            self.embedded._start_redis(self.redis_port)

    def restart_postgres(self, down_seconds: float, during=None) -> None:
        with self.embedded._locked():
            self.embedded._stop_postgres()
        if during:
            during()
        time.sleep(down_seconds)
        with self.embedded._locked():
            self.embedded._start_postgres(self.pg_port)

    def stop(self) -> None:
        self.embedded.stop(self.started)


class Processes:
    """The web server, the Celery worker and beat, each in its own process group."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = DATA_DIR / f"{name}.log"
        self.logs[name] = log
        handle = open(log, "a")  # noqa: SIM115 - kept open for the child's lifetime
        proc = subprocess.Popen(
            args, cwd=BASE_DIR, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def start_web(self) -> None:
        self._spawn(
            "web",
            [
                sys.executable, "-m", "uvicorn", "betthat.asgi:application", "--host", "127.0.0.1",
                "--port", str(WEB_PORT), "--no-access-log", "--log-level", "warning",
            ],
        )  # fmt: skip
        wait_until(lambda: http_ok(f"http://127.0.0.1:{WEB_PORT}/healthz"), 60, "the web process to answer")

    def start_worker(self) -> None:
        self._spawn(
            "worker",
            [
                sys.executable, "-m", "celery", "-A", "betthat", "worker", "-Q", "default,odds,settlement,email",
                "--concurrency", "1", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                "-n", f"chaos-{uuid.uuid4().hex[:6]}@%h",
            ],
        )  # fmt: skip

    def start_beat(self) -> None:
        self._spawn(
            "beat",
            [
                sys.executable, "-m", "celery", "-A", "betthat", "beat", "--loglevel", "WARNING",
                "--schedule", str(DATA_DIR / "celerybeat-schedule"),
            ],
        )  # fmt: skip

    def kill(self, name: str) -> int:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        return proc.pid

    def stop_all(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for name, proc in list(self.procs.items()):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            self.procs.pop(name, None)


def wait_until(condition, seconds: float, what: str) -> float:
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        with contextlib.suppress(Exception):
            if condition():
                return time.monotonic() - began
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {seconds:.0f}s waiting for {what}")


def http_ok(url: str) -> bool:
    import httpx

    return httpx.get(url, timeout=2).status_code == 200
