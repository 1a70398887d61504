"""`make run`: start the whole of Bet-That in one terminal.

Starts (or reuses) the embedded PostgreSQL and Redis when DATABASE_URL / REDIS_URL are
unset, migrates, creates the demo data once, then runs the ASGI server, a Celery worker,
Celery beat and, without ODDS_API_KEY, the demo odds feed (with it, beat polls The Odds
API instead), each line prefixed with its process name. Ctrl-C stops every child (SIGTERM,
then SIGKILL after a timeout) and the embedded servers.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
PYTHON = sys.executable
BIN = Path(PYTHON).parent
COLORS = ["\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m", "\033[31m"]
RESET = "\033[0m"
STOP_TIMEOUT = 8.0


def say(message: str) -> None:
    print(f"\033[1m[run]{RESET} {message}", flush=True)


def step(env: dict, *args: str) -> None:
    say(" ".join(args))
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def processes(host: str, port: int, web_workers: int) -> dict[str, list[str]]:
    return {
        "web": [
            str(BIN / "uvicorn"),
            "betthat.asgi:application",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(web_workers),
            "--no-access-log",
            # permessage-deflate compressed once per message, not once per socket
            # (betthat/websocket_protocol.py; docs/performance.md, "Ingest -> websocket")
            "--ws",
            "betthat.websocket_protocol:WebSocketProtocol",
            "--timeout-graceful-shutdown",
            "3",
        ],
        "worker": [
            str(BIN / "celery"),
            "-A",
            "betthat",
            "worker",
            "-Q",
            "default,odds,settlement",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        # The closing-line capture at kick-off gets its own process, so a large event's capture
        # never holds up deposits (default) or settlement (betthat/celery.py).
        "closing": [
            str(BIN / "celery"),
            "-A",
            "betthat",
            "worker",
            "-Q",
            "closing",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            "closing@%h",
        ],
        # Notification emails too: a settlement run owes one per bet, and on the main worker a
        # deposit's webhook would wait behind them. Threads: the work is waiting on the mail server.
        "mail": [
            str(BIN / "celery"),
            "-A",
            "betthat",
            "worker",
            "-Q",
            "email",
            "--pool",
            "threads",
            "--concurrency",
            "4",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            "mail@%h",
        ],
        "beat": [
            str(BIN / "celery"),
            "-A",
            "betthat",
            "beat",
            "--loglevel",
            "INFO",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--schedule",
            str(BASE_DIR / ".data" / "celerybeat-schedule"),
        ],
        "feed": [PYTHON, "manage.py", "simulate_odds"],
    }


def real_feed_key(env: dict) -> str:
    """ODDS_API_KEY from the environment, else from the git-ignored .env (as settings read it)."""
    if env.get("ODDS_API_KEY"):
        return env["ODDS_API_KEY"]
    dotenv = BASE_DIR / ".env"
    if dotenv.exists():
        for line in dotenv.read_text().splitlines():
            key, _, value = line.strip().removeprefix("export ").partition("=")
            if key.strip() == "ODDS_API_KEY":
                return value.strip().strip("'\"")
    return ""


def available(name: str, env: dict) -> bool:
    if name == "feed":
        # The demo feed runs only without a real one: with ODDS_API_KEY set, beat polls The
        # Odds API (edges.tasks.poll_odds_api_task / poll_scores_task) and the simulator is off.
        return not real_feed_key(env)
    return True


def stop_all(children: dict[str, subprocess.Popen]) -> None:
    for proc in children.values():
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{name} ignored SIGTERM; killing it")
        # Kill the whole group: Celery's pool children and uvicorn's workers included.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> int:
    from betthat import embedded

    # With DATABASE_URL / REDIS_URL unset (environment and .env), start the embedded servers
    # (or use the running ones) and hand their URLs to every child; stop only what we started.
    say("checking DATABASE_URL / REDIS_URL (embedded PostgreSQL and Redis under .data/ if unset) ...")
    started_embedded = embedded.start_for_entry_point()
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "betthat.settings")
    env["PYTHONUNBUFFERED"] = "1"
    say(f"DATABASE_URL={env['DATABASE_URL']}  REDIS_URL={env['REDIS_URL']}")

    children: dict[str, subprocess.Popen] = {}
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        step(env, "migrate", "--no-input", "-v", "0")
        # seed_demo quotes its own demo events before the bettors' history is placed
        # (edges/demo.py), so the boards, profiles, feed and chat have history at once
        step(env, "seed_demo")
        host = env.get("HOST", "127.0.0.1")
        port = int(env.get("PORT", "8000"))
        selector = selectors.DefaultSelector()
        for index, (name, command) in enumerate(
            processes(host, port, int(env.get("WEB_WORKERS", "2"))).items()
        ):
            if not available(name, env):
                continue
            proc = subprocess.Popen(
                command,
                cwd=BASE_DIR,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                bufsize=0,
            )
            children[name] = proc
            prefix = f"{COLORS[index % len(COLORS)]}{name:>6} |{RESET} "
            selector.register(proc.stdout, selectors.EVENT_READ, (name, prefix, bytearray()))
        if real_feed_key(env):
            say("ODDS_API_KEY is set: beat polls The Odds API (ODDS_API_SPORTS); the demo feed is off.")
        else:
            say("no ODDS_API_KEY: the demo feed (simulate_odds) quotes simulated events.")
        say(
            f"Bet-That is starting at http://{host}:{port}/  (admin: /admin/, API docs: /api/docs/). Ctrl-C stops everything."
        )
        while not stopping:
            for key, _ in selector.select(timeout=0.5):
                name, prefix, buffer = key.data
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                buffer.extend(chunk)
                *lines, rest = buffer.split(b"\n")
                buffer[:] = rest
                for line in lines:
                    sys.stdout.write(prefix + line.decode(errors="replace") + "\n")
                sys.stdout.flush()
            for name, proc in children.items():
                if proc.poll() is not None and not stopping:
                    say(f"{name} exited with {proc.returncode}; stopping everything")
                    stopping = True
        return 0
    except subprocess.CalledProcessError as error:
        say(f"setup step failed: {error}")
        return 1
    finally:
        say("stopping ...")
        stop_all(children)
        if started_embedded:
            embedded.stop(started_embedded)
        say("stopped.")


if __name__ == "__main__":
    sys.exit(main())
