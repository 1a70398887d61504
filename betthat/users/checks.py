"""System checks for deployment (`manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_secret_key_is_not_the_development_key(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        return [
            Error(
                "SECRET_KEY is the development key, which is public in the repository.",
                hint="Set SECRET_KEY in the environment to a long random value (python -c "
                "'import secrets; print(secrets.token_urlsafe(60))').",
                id="betthat.E001",
            )
        ]
    return []
