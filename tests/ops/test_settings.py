"""LOG_FORMAT=json and SENTRY_DSN take effect in a freshly started process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

from tests.conftest import BASE_DIR

SCRIPT = """
import logging, django
django.setup()
import sentry_sdk
logging.getLogger("betthat.probe").warning("probe %s", 7)
print("SENTRY", sentry_sdk.get_client().is_active(), flush=True)
"""


def run(**env: str) -> subprocess.CompletedProcess:
    environment = dict(
        os.environ, DJANGO_SETTINGS_MODULE="betthat.settings", REDIS_URL=settings.REDIS_URL, **env
    )
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_json_logs_and_sentry_when_configured():
    result = run(LOG_FORMAT="json", SENTRY_DSN="https://public@127.0.0.1:9/1")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    probe = next(line for line in lines if line["logger"] == "betthat.probe")
    assert probe["message"] == "probe 7" and probe["level"] == "WARNING"
    assert "SENTRY True" in result.stdout


def test_plain_logs_and_no_sentry_by_default():
    result = run(LOG_FORMAT="plain", SENTRY_DSN="")
    assert result.returncode == 0, result.stderr
    assert "WARNING betthat.probe probe 7" in result.stderr
    assert "SENTRY False" in result.stdout


def test_an_unknown_log_format_stops_the_process():
    result = run(LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "LOG_FORMAT must be 'plain' or 'json'" in result.stderr
