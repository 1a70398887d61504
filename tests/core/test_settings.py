import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(__file__).resolve().parents[2]


def test_check_deploy_is_clean_with_production_values():
    env = dict(os.environ)
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="bet-that.example.com",
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=settings.REDIS_URL,
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_no_sqlite_anywhere():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert "redis" in settings.CACHES["default"]["BACKEND"].lower()
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "betthat.core.channel_layer.RedisChannelLayer"


def test_celery_queues_and_money_tasks_acks_late():
    import betthat.core.tasks  # noqa: F401  (registers the tasks)
    from betthat.celery import app

    assert {q.name for q in app.conf.task_queues} == {"default", "odds", "settlement"}
    assert app.conf.task_reject_on_worker_lost is True
    relay = app.tasks["betthat.core.tasks.relay_outbox_task"]
    assert relay.acks_late is True
