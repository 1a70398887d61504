"""The logging configuration (`betthat.settings` passes LOG_FORMAT and LOG_LEVEL)."""

from __future__ import annotations

from typing import Any


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """Everything to the console, as plain lines or one JSON object per line."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {"()": "betthat.ops.jsonlog.JsonFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": log_format}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.channels.server": {"level": "WARNING"},
            "pgserver": {"level": "WARNING"},
            # The outbox relay runs every second: per-task lines would drown everything else.
            "celery.app.trace": {"level": "WARNING"},
            "celery.worker.strategy": {"level": "WARNING"},
            "celery.beat": {"level": "WARNING"},
        },
    }
