"""`manage.py check --database default` reports messages caught by the default partition."""

from __future__ import annotations

from django.core import checks
from django.db import DatabaseError


@checks.register(checks.Tags.database)
def default_partition_empty(app_configs, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    from chat import partitions

    try:
        rows = partitions.default_partition_rows()
    except DatabaseError:
        return []  # not migrated yet
    if rows:
        return [
            checks.Warning(
                f"{rows} chat message(s) are in the default partition: their month or week has no partition.",
                hint="Run `manage.py chat_partitions` to create the partitions and move them in.",
                id="chat.W001",
            )
        ]
    return []
